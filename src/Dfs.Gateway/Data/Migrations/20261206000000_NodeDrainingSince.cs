using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: a nullable column, so existing nodes come out not draining and
/// the same operation serves PostgreSQL and SQLite (both add a nullable column in place).
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20261206000000_NodeDrainingSince")]
public sealed class NodeDrainingSince : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.AddColumn<DateTime>(name: "DrainingSince", table: "nodes", nullable: true);

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        // EF rebuilds the table to drop a column on SQLite, which needs the target model these hand-written
        // migrations do not carry; SQLite has dropped columns itself since 3.35.
        if (migrationBuilder.IsNpgsql())
            migrationBuilder.DropColumn(name: "DrainingSince", table: "nodes");
        else
            migrationBuilder.Sql("ALTER TABLE \"nodes\" DROP COLUMN \"DrainingSince\";");
    }
}
