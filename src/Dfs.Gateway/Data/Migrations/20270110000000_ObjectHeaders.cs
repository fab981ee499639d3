using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: what the S3 API keeps with a version besides its bytes (Content-Type, user
/// metadata, a multipart ETag). Nullable columns: versions written before read as "none".
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20270110000000_ObjectHeaders")]
public sealed class ObjectHeaders : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.AddColumn<string>(name: "ObjectHeaders", table: "file_versions", nullable: true);
        migrationBuilder.AddColumn<string>(name: "MultipartETag", table: "file_versions", nullable: true);
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var column in new[] { "MultipartETag", "ObjectHeaders" })
        {
            // As in NodeDrainingSince: EF's SQLite drop rebuilds the table from a model these migrations do not carry.
            if (migrationBuilder.IsNpgsql()) migrationBuilder.DropColumn(name: column, table: "file_versions");
            else migrationBuilder.Sql($"ALTER TABLE \"file_versions\" DROP COLUMN \"{column}\";");
        }
    }
}
