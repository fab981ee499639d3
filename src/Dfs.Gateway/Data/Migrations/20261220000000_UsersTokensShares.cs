using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: users (salted PBKDF2 hashes), bearer tokens (SHA-256 of the token
/// only) and shares. The same operations serve PostgreSQL and SQLite (foreign keys inside CREATE TABLE).
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20261220000000_UsersTokensShares")]
public sealed class UsersTokensShares : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        // Byte-order comparison of paths, as for entries.
        var collation = migrationBuilder.IsNpgsql() ? "C" : null;

        migrationBuilder.CreateTable(
            name: "users",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                Name = table.Column<string>(nullable: false, collation: collation),
                PasswordHash = table.Column<string>(nullable: false),
                IsAdmin = table.Column<bool>(nullable: false),
                QuotaBytes = table.Column<long>(nullable: true),
                CreatedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table => table.PrimaryKey("PK_users", x => x.Id));
        migrationBuilder.CreateIndex("IX_users_Name", "users", "Name", unique: true);

        migrationBuilder.CreateTable(
            name: "tokens",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                UserId = table.Column<Guid>(nullable: false),
                TokenHash = table.Column<string>(nullable: false),
                Name = table.Column<string>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
                ExpiresAt = table.Column<DateTime>(nullable: false),
                RevokedAt = table.Column<DateTime>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_tokens", x => x.Id);
                table.ForeignKey("FK_tokens_users_UserId", x => x.UserId, "users", "Id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex("IX_tokens_TokenHash", "tokens", "TokenHash", unique: true);
        migrationBuilder.CreateIndex("IX_tokens_UserId", "tokens", "UserId");

        migrationBuilder.CreateTable(
            name: "shares",
            columns: table => new
            {
                Id = table.Column<Guid>(nullable: false),
                Path = table.Column<string>(nullable: false, collation: collation),
                OwnerId = table.Column<Guid>(nullable: false),
                GranteeId = table.Column<Guid>(nullable: false),
                Access = table.Column<string>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_shares", x => x.Id);
                table.ForeignKey("FK_shares_users_OwnerId", x => x.OwnerId, "users", "Id", onDelete: ReferentialAction.Restrict);
                table.ForeignKey("FK_shares_users_GranteeId", x => x.GranteeId, "users", "Id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex("IX_shares_Path_GranteeId", "shares", ["Path", "GranteeId"], unique: true);
        migrationBuilder.CreateIndex("IX_shares_GranteeId", "shares", "GranteeId");
        migrationBuilder.CreateIndex("IX_shares_OwnerId", "shares", "OwnerId");
    }

    protected override void Down(MigrationBuilder migrationBuilder)
    {
        foreach (var table in new[] { "shares", "tokens", "users" })
            migrationBuilder.DropTable(table);
    }
}
