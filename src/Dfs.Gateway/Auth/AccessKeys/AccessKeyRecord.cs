using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth.AccessKeys;

/// <summary>
/// An S3 access key of a user. The secret is kept sealed (<see cref="AccessKeyCipher"/>), not hashed: SigV4 signs with
/// the secret itself, so the gateway must be able to read it back.
/// </summary>
public sealed class AccessKeyRecord
{
    /// <summary>The access key id (<see cref="AccessKeyFormat"/>): what clients send in the clear with every request.</summary>
    public required string Id { get; set; }
    public Guid UserId { get; set; }
    /// <summary>The owner's label for it; may be empty.</summary>
    public required string Name { get; set; }
    /// <summary>Base64 of nonce | ciphertext | tag, AES-256-GCM under the master key, the id as associated data.</summary>
    public required string SecretCipher { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Not maintained yet: the S3 API may set it once a signature is verified.</summary>
    public DateTime? LastUsedAt { get; set; }
}

internal static class AccessKeyModel
{
    /// <summary>Mirrors the AccessKeys migration.</summary>
    public static void Configure(ModelBuilder model) =>
        model.Entity<AccessKeyRecord>(e =>
        {
            e.ToTable("access_keys");
            e.HasKey(x => x.Id);
            e.HasIndex(x => x.UserId);
            e.HasOne<UserRecord>().WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });
}
