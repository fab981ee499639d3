using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

public sealed class UserRecord
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    /// <summary>"pbkdf2-sha256$iterations$salt$hash" (<see cref="PasswordHasher"/>).</summary>
    public required string PasswordHash { get; set; }
    public bool IsAdmin { get; set; }
    /// <summary>Null = unlimited.</summary>
    public long? QuotaBytes { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>A bearer token; only the SHA-256 of the token string is kept.</summary>
public sealed class TokenRecord
{
    public Guid Id { get; set; }
    public Guid UserId { get; set; }
    public required string TokenHash { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

/// <summary>Read or read-write access for Grantee on Path and everything below it.</summary>
public sealed class ShareRecord
{
    public Guid Id { get; set; }
    public required string Path { get; set; }
    public Guid OwnerId { get; set; }
    public Guid GranteeId { get; set; }
    public required string Access { get; set; }
    public DateTime CreatedAt { get; set; }
}

internal static class AuthModel
{
    /// <summary>Mirrors the UsersTokensShares and AccessKeys migrations.</summary>
    public static void Configure(ModelBuilder model)
    {
        model.Entity<UserRecord>(e =>
        {
            e.ToTable("users");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.Name).IsUnique();
        });
        model.Entity<TokenRecord>(e =>
        {
            e.ToTable("tokens");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => x.UserId);
            e.HasOne<UserRecord>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        model.Entity<ShareRecord>(e =>
        {
            e.ToTable("shares");
            e.HasKey(x => x.Id);
            e.HasIndex(x => new { x.Path, x.GranteeId }).IsUnique();
            e.HasIndex(x => x.GranteeId);
            e.HasIndex(x => x.OwnerId);
            e.HasOne<UserRecord>().WithMany().HasForeignKey(x => x.OwnerId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne<UserRecord>().WithMany().HasForeignKey(x => x.GranteeId).OnDelete(DeleteBehavior.Cascade);
        });
        AccessKeys.AccessKeyModel.Configure(model);
    }
}
