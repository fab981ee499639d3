using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand (the EF design-time package is not in our registry). Column types are left to each
/// provider's mapping of the CLR type, so one migration serves PostgreSQL and SQLite.
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20261122000000_Initial")]
public sealed class Initial : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // PostgreSQL: byte-order collation so listings sort the same as on SQLite (BINARY), whatever the server's locale.
        var collation = migrationBuilder.IsNpgsql() ? "C" : null;

        migrationBuilder.CreateTable(
            name: "entries",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                ParentId = table.Column<Guid>(nullable: true),
                Name = table.Column<string>(nullable: false, collation: collation),
                Path = table.Column<string>(nullable: false, collation: collation),
                Kind = table.Column<int>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
                ModifiedAt = table.Column<DateTime>(nullable: false),
                CurrentVersionId = table.Column<Guid>(nullable: true),
                Revision = table.Column<int>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_entries", x => x.Id));
        migrationBuilder.CreateIndex("IX_entries_Path", "entries", "Path", unique: true);
        migrationBuilder.CreateIndex("IX_entries_ParentId_Name", "entries", ["ParentId", "Name"], unique: true);

        migrationBuilder.CreateTable(
            name: "file_versions",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                FileId = table.Column<Guid>(nullable: false),
                Number = table.Column<int>(nullable: false),
                Size = table.Column<long>(nullable: false),
                Md5 = table.Column<string>(nullable: false),
                Sha256 = table.Column<string>(nullable: false),
                ChunkSize = table.Column<long>(nullable: false),
                ChunkCount = table.Column<int>(nullable: false),
                ReplicationFactor = table.Column<int>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_file_versions", x => x.Id));
        migrationBuilder.CreateIndex("IX_file_versions_FileId_Number", "file_versions", ["FileId", "Number"], unique: true);

        migrationBuilder.CreateTable(
            name: "version_chunks",
            columns: table => new
            {
                VersionId = table.Column<Guid>(nullable: false),
                Index = table.Column<int>(nullable: false),
                ChunkId = table.Column<string>(nullable: false),
                Offset = table.Column<long>(nullable: false),
                Size = table.Column<long>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_version_chunks", x => new { x.VersionId, x.Index }));
        migrationBuilder.CreateIndex("IX_version_chunks_ChunkId", "version_chunks", "ChunkId");

        migrationBuilder.CreateTable(
            name: "chunks",
            columns: table => new
            {
                Id = table.Column<string>(nullable: false),
                Size = table.Column<long>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_chunks", x => x.Id));

        migrationBuilder.CreateTable(
            name: "replicas",
            columns: table => new
            {
                ChunkId = table.Column<string>(nullable: false),
                NodeId = table.Column<Guid>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_replicas", x => new { x.ChunkId, x.NodeId }));
        migrationBuilder.CreateIndex("IX_replicas_NodeId", "replicas", "NodeId");

        migrationBuilder.CreateTable(
            name: "nodes",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                Name = table.Column<string>(nullable: false),
                Url = table.Column<string>(nullable: false),
                CapacityBytes = table.Column<long>(nullable: false),
                FreeBytes = table.Column<long>(nullable: false),
                UsedBytes = table.Column<long>(nullable: false),
                ChunkCount = table.Column<long>(nullable: false),
                RegisteredAt = table.Column<DateTime>(nullable: false),
                LastHeartbeatAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_nodes", x => x.Id));
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var table in new[] { "nodes", "replicas", "chunks", "version_chunks", "file_versions", "entries" })
            migrationBuilder.DropTable(table);
    }
}

internal static class MigrationBuilderExtensions
{
    public static bool IsNpgsql(this MigrationBuilder builder) =>
        builder.ActiveProvider == "Npgsql.EntityFrameworkCore.PostgreSQL";
}
