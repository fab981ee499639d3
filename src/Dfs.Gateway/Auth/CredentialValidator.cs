using System.Security.Cryptography;
using System.Text;
using Dfs.Gateway.Data;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

/// <summary>Turns a Basic credential or a bearer token into the <see cref="Caller"/> it stands for, or null.</summary>
public sealed class CredentialValidator(MetadataDbContext db, PasswordHasher hasher, CredentialCache cache, TimeProvider clock)
{
    public async Task<Caller?> ValidateBasicAsync(string user, string password, CancellationToken ct)
    {
        var key = "basic:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(user + ":" + password)));
        var epoch = await cache.EpochAsync();
        if (cache.Get(key, epoch) is { } cached) return cached;
        var row = await db.Users.Where(u => u.Name == user)
            .Select(u => new { u.Id, u.Name, u.IsAdmin, u.PasswordHash }).FirstOrDefaultAsync(ct);
        // Unknown users are checked against a dummy hash: the time taken does not say whether a name exists.
        var stored = row?.PasswordHash;
        var valid = await cache.VerifyOnceAsync(key + "|" + (stored ?? "-"), () => hasher.Verify(password, stored));
        if (!valid || row is null) return null;
        var caller = new Caller(row.Id, row.Name, row.IsAdmin, null);
        cache.Set(key, caller, epoch);
        return caller;
    }

    public async Task<Caller?> ValidateBearerAsync(string token, CancellationToken ct)
    {
        if (!token.StartsWith(TokenFormat.Prefix, StringComparison.Ordinal) || token.Length > 200) return null;
        var hash = TokenFormat.HashOf(token);
        var key = "bearer:" + hash;
        var epoch = await cache.EpochAsync();
        if (cache.Get(key, epoch) is { } cached) return cached;
        var row = await (from t in db.Tokens
                         join u in db.Users on t.UserId equals u.Id
                         where t.TokenHash == hash
                         select new { TokenId = t.Id, t.ExpiresAt, t.RevokedAt, u.Id, u.Name, u.IsAdmin }).FirstOrDefaultAsync(ct);
        var now = clock.GetUtcNow();
        if (row is null || row.RevokedAt is not null || row.ExpiresAt <= now.UtcDateTime) return null;
        var caller = new Caller(row.Id, row.Name, row.IsAdmin, row.TokenId);
        cache.Set(key, caller, epoch, new DateTimeOffset(row.ExpiresAt, TimeSpan.Zero));
        return caller;
    }
}
