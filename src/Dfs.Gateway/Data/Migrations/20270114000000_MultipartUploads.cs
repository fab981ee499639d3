using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: S3 multipart uploads in progress, their parts, and the chunks each part was
/// stored as (which garbage collection must leave alone until the upload is completed or aborted). Plain tables and
/// indexes, so the same operations serve PostgreSQL and SQLite.
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20270114000000_MultipartUploads")]
public sealed class MultipartUploads : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        var collation = migrationBuilder.IsNpgsql() ? "C" : null;
        migrationBuilder.CreateTable(
            name: "multipart_uploads",
            columns: table => new
            {
                Id = table.Column<string>(nullable: false),
                Path = table.Column<string>(nullable: false, collation: collation),
                UserId = table.Column<Guid>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
                ObjectHeaders = table.Column<string>(nullable: true),
            },
            constraints: table => table.PrimaryKey("PK_multipart_uploads", x => x.Id));
        migrationBuilder.CreateIndex("IX_multipart_uploads_Path", "multipart_uploads", "Path");

        migrationBuilder.CreateTable(
            name: "multipart_parts",
            columns: table => new
            {
                UploadId = table.Column<string>(nullable: false),
                PartNumber = table.Column<int>(nullable: false),
                Size = table.Column<long>(nullable: false),
                Md5 = table.Column<string>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_multipart_parts", x => new { x.UploadId, x.PartNumber }));

        migrationBuilder.CreateTable(
            name: "multipart_part_chunks",
            columns: table => new
            {
                UploadId = table.Column<string>(nullable: false),
                PartNumber = table.Column<int>(nullable: false),
                Index = table.Column<int>(nullable: false),
                ChunkId = table.Column<string>(nullable: false),
                Offset = table.Column<long>(nullable: false),
                Size = table.Column<long>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_multipart_part_chunks", x => new { x.UploadId, x.PartNumber, x.Index }));
        migrationBuilder.CreateIndex("IX_multipart_part_chunks_ChunkId", "multipart_part_chunks", "ChunkId");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var table in new[] { "multipart_part_chunks", "multipart_parts", "multipart_uploads" })
            migrationBuilder.DropTable(table);
    }
}
