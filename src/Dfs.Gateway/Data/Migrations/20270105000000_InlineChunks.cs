using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: small chunks kept in the metadata store (<see cref="InlineChunkRecord"/>).
/// A new table with a primary key only, the column types left to the provider (bytea on PostgreSQL, BLOB on SQLite), so
/// the same operations serve both.
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20270105000000_InlineChunks")]
public sealed class InlineChunks : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.CreateTable(
            name: "inline_chunks",
            columns: table => new
            {
                ChunkId = table.Column<string>(nullable: false),
                Data = table.Column<byte[]>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_inline_chunks", x => x.ChunkId));

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("inline_chunks");
}
