using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth;

/// <summary>Bearer tokens: issued to an authenticated caller, listed, revoked; expired and revoked ones no longer authenticate.</summary>
public sealed class TokenService(MetadataDbContext db, CredentialCache cache, IOptions<AuthOptions> options, TimeProvider clock)
{
    public const int MaxNameLength = 100;

    public async Task<TokenCreated> CreateAsync(Caller caller, CreateTokenRequest? request, CancellationToken ct)
    {
        var lifetime = options.Value.TokenLifetimeHours;
        if (request?.TtlHours is { } ttl && ttl is < 1 or > 8760)
            throw DfsProblemException.BadRequest("Invalid ttlHours", "ttlHours must be a whole number of hours from 1 to 8760.");
        var name = string.IsNullOrWhiteSpace(request?.Name) ? "token" : request.Name.Trim();
        if (name.Length > MaxNameLength || name.Any(char.IsControl))
            throw DfsProblemException.BadRequest("Invalid token name", $"A token name has at most {MaxNameLength} characters and no control characters.");

        var now = clock.GetUtcNow().UtcDateTime;
        var token = TokenFormat.Generate();
        var record = new TokenRecord
        {
            Id = Guid.CreateVersion7(),
            UserId = caller.Id,
            TokenHash = TokenFormat.HashOf(token),
            Name = name,
            CreatedAt = now,
            ExpiresAt = now.AddHours(Math.Min(request?.TtlHours ?? lifetime, lifetime)),
        };
        db.Tokens.Add(record);
        await db.SaveChangesAsync(ct);
        return new TokenCreated(token, record.Id, record.ExpiresAt, caller.Name);
    }

    public async Task<IReadOnlyList<TokenInfo>> ListAsync(Caller caller, CancellationToken ct) =>
        (await db.Tokens.Where(t => t.UserId == caller.Id).OrderBy(t => t.CreatedAt).ToListAsync(ct))
            .Select(t => new TokenInfo(t.Id, t.Name, t.CreatedAt, t.ExpiresAt, t.RevokedAt is not null)).ToList();

    /// <summary>Revokes a token of the caller (any token for an admin); someone else's token is 404 like a missing one.</summary>
    public async Task RevokeAsync(Caller caller, Guid id, CancellationToken ct)
    {
        var token = await db.Tokens.FirstOrDefaultAsync(t => t.Id == id, ct);
        if (token is null || (token.UserId != caller.Id && !caller.IsAdmin))
            throw new DfsProblemException(StatusCodes.Status404NotFound, "Not found", $"You have no token {id}.");
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Tokens.Where(t => t.Id == id && t.RevokedAt == null).ExecuteUpdateAsync(s => s.SetProperty(t => t.RevokedAt, now), ct);
        await cache.InvalidateAsync();
    }
}
