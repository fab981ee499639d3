using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace Dfs.Gateway.Data.Migrations;

/// <summary>
/// Written by hand like <see cref="Initial"/>: S3 access keys (<see cref="Auth.AccessKeys.AccessKeyRecord"/>), their
/// secrets sealed under a master key that is not in the database. The column types are left to the provider and the
/// foreign key goes inside CREATE TABLE, so the same operations serve PostgreSQL and SQLite.
/// </summary>
[DbContext(typeof(MetadataDbContext))]
[Migration("20270112000000_AccessKeys")]
public sealed class AccessKeys : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.CreateTable(
            name: "access_keys",
            columns: table => new
            {
                Id = table.Column<string>(nullable: false),
                UserId = table.Column<Guid>(nullable: false),
                Name = table.Column<string>(nullable: false),
                SecretCipher = table.Column<string>(nullable: false),
                CreatedAt = table.Column<DateTime>(nullable: false),
                LastUsedAt = table.Column<DateTime>(nullable: true),
            },
            constraints: table =>
            {
                table.PrimaryKey("PK_access_keys", x => x.Id);
                table.ForeignKey("FK_access_keys_users_UserId", x => x.UserId, "users", "Id", onDelete: ReferentialAction.Cascade);
            });
        migrationBuilder.CreateIndex("IX_access_keys_UserId", "access_keys", "UserId");
    }

    protected override void Down(MigrationBuilder migrationBuilder) => migrationBuilder.DropTable("access_keys");
}
