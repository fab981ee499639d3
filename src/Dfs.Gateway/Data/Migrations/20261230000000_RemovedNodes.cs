using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: the ids of removed nodes, so a removed node's process that goes on
/// heartbeating is told 410 Gone (and stops) even after a gateway restart. A new table with a primary key only:
/// the same operations serve PostgreSQL and SQLite.
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20261230000000_RemovedNodes")]
public sealed class RemovedNodes : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder) =>
        migrationBuilder.CreateTable(
            name: "removed_nodes",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                Name = table.Column<string>(nullable: false),
                RemovedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_removed_nodes", x => x.Id));

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("removed_nodes");
}
