using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth.AccessKeys;

/// <summary>What the S3 API checks a SigV4 signature with: the key's user, and the key's secret in the clear.</summary>
public sealed record S3Credential(Caller Caller, string Secret);

/// <summary>
/// S3 access keys: a user creates, lists and revokes their own (an admin anyone's), at most <see cref="MaxKeysPerUser"/>
/// each; the S3 API finds a key's user and secret by its id. Someone else's key is 404 to a non-admin, like a missing one,
/// so ids cannot be probed. Every change ends the credentials epoch, so a revoked key stops working on every gateway at once.
/// </summary>
public sealed class AccessKeyService(MetadataDbContext db, AccessKeyCipher cipher, CredentialCache cache, TimeProvider clock,
    AccessKeyUsage usage, ILogger<AccessKeyService> logger)
{
    public const int MaxKeysPerUser = 10;
    public const int MaxNameLength = 100;

    /// <summary>Cache entries of access keys, apart from the Basic and bearer ones.</summary>
    private const string CachePrefix = "s3:";

    /// <summary>A new key for the caller, or (admin) for <paramref name="forUser"/>; the secret is returned only here.</summary>
    public async Task<(AccessKeyInfo Key, string Secret)> CreateAsync(Caller caller, string? forUser, string? name, CancellationToken ct)
    {
        if (!cipher.IsAvailable) throw NotConfigured();
        var label = ValidateName(name);
        var (userId, userName) = await OwnerAsync(caller, forUser, "create", ct);
        if (await db.AccessKeys.CountAsync(k => k.UserId == userId, ct) >= MaxKeysPerUser) throw TooMany(userName);

        var secret = AccessKeyFormat.NewSecret();
        var now = clock.GetUtcNow().UtcDateTime;
        AccessKeyRecord record;
        for (var attempt = 0; ; attempt++)
        {
            var id = AccessKeyFormat.NewId();
            record = new AccessKeyRecord { Id = id, UserId = userId, Name = label, SecretCipher = cipher.Seal(id, secret), CreatedAt = now };
            db.AccessKeys.Add(record);
            try
            {
                await db.SaveChangesAsync(ct);
                break;
            }
            catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e) && attempt < 2)
            {
                // An id drawn twice (85 random bits): draw another.
            }
            finally
            {
                db.ChangeTracker.Clear();
            }
        }
        // Counted again once inserted: two creations at once may each have seen room for one more. Both may then give
        // way, never both stay.
        if (await db.AccessKeys.CountAsync(k => k.UserId == userId, ct) > MaxKeysPerUser)
        {
            await db.AccessKeys.Where(k => k.Id == record.Id).ExecuteDeleteAsync(ct);
            throw TooMany(userName);
        }
        await cache.InvalidateAsync();
        return (new AccessKeyInfo(record.Id, userName, record.Name, record.CreatedAt, null), secret);
    }

    /// <summary>
    /// The caller's keys; an admin names a user with <paramref name="forUser"/>, or leaves it out for every user's. Oldest
    /// first, by user.
    /// </summary>
    public async Task<IReadOnlyList<AccessKeyInfo>> ListAsync(Caller caller, string? forUser, CancellationToken ct)
    {
        Guid? only = string.IsNullOrEmpty(forUser) && caller.IsAdmin ? null : (await OwnerAsync(caller, forUser, "list", ct)).Id;
        var query = from k in db.AccessKeys
                    join u in db.Users on k.UserId equals u.Id
                    select new { Key = k, User = u.Name };
        if (only is { } userId) query = query.Where(x => x.Key.UserId == userId);
        var rows = await query.OrderBy(x => x.User).ThenBy(x => x.Key.CreatedAt).ThenBy(x => x.Key.Id).ToListAsync(ct);
        return rows.Select(x => new AccessKeyInfo(x.Key.Id, x.User, x.Key.Name, x.Key.CreatedAt, x.Key.LastUsedAt)).ToList();
    }

    /// <summary>Deletes one of the caller's keys (an admin: anyone's); someone else's key is 404 like a missing one.</summary>
    public async Task RevokeAsync(Caller caller, string id, CancellationToken ct)
    {
        var owner = await db.AccessKeys.Where(k => k.Id == id).Select(k => (Guid?)k.UserId).FirstOrDefaultAsync(ct);
        if (owner is null || (owner != caller.Id && !caller.IsAdmin))
            throw new DfsProblemException(StatusCodes.Status404NotFound, "Not found", $"You have no access key {id}.");
        await db.AccessKeys.Where(k => k.Id == id).ExecuteDeleteAsync(ct);
        await cache.InvalidateAsync();
    }

    /// <summary>
    /// The user and secret of <paramref name="accessKeyId"/>; null when there is no such key (never was, revoked, its user
    /// deleted) or this gateway cannot open it (no master key, or another one than it was sealed with). Cached like
    /// bearer tokens, under the credentials epoch.
    /// </summary>
    public async Task<S3Credential?> FindAsync(string accessKeyId, CancellationToken ct)
    {
        if (!cipher.IsAvailable || !AccessKeyFormat.IsWellFormedId(accessKeyId)) return null;
        var key = CachePrefix + accessKeyId;
        var epoch = await cache.EpochAsync();
        if (cache.GetWithSecret(key, epoch) is { Secret: { } cachedSecret } cached) return new S3Credential(cached.Caller, cachedSecret);

        var row = await (from k in db.AccessKeys
                         join u in db.Users on k.UserId equals u.Id
                         where k.Id == accessKeyId
                         select new { k.SecretCipher, u.Id, u.Name, u.IsAdmin }).FirstOrDefaultAsync(ct);
        if (row is null) return null;
        if (cipher.Open(accessKeyId, row.SecretCipher) is not { } secret)
        {
            // Every key would fail alike: a gateway given another master key than the one the keys were sealed with.
            logger.LogWarning("Access key {AccessKeyId} does not open with this gateway's Dfs:Gateway:AccessKeyMasterKey: "
                              + "every gateway of the cluster needs the key the access keys were created with.", accessKeyId);
            return null;
        }
        var caller = new Caller(row.Id, row.Name, row.IsAdmin, TokenId: null);
        cache.Set(key, caller, epoch, secret: secret);
        return new S3Credential(caller, secret);
    }

    /// <summary>
    /// Records that a request signed with the key was accepted: the key's LastUsedAt, kept to <see cref="AccessKeyUsage.Precision"/>
    /// so that a busy key costs one write a minute per gateway, not one a request.
    /// </summary>
    public async Task MarkUsedAsync(string accessKeyId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (!usage.IsDue(accessKeyId, now)) return;
        var stale = now - AccessKeyUsage.Precision;
        await db.AccessKeys.Where(k => k.Id == accessKeyId && (k.LastUsedAt == null || k.LastUsedAt < stale))
            .ExecuteUpdateAsync(set => set.SetProperty(k => k.LastUsedAt, now), ct);
    }

    /// <summary>The label, trimmed; "" when none is given.</summary>
    private static string ValidateName(string? name)
    {
        var label = name?.Trim() ?? "";
        if (label.Length > MaxNameLength || (name?.Any(char.IsControl) ?? false))
            throw DfsProblemException.BadRequest("Invalid access key name",
                $"An access key name has at most {MaxNameLength} characters and no control characters.");
        return label;
    }

    /// <summary>Whose keys a request is about: the caller's own unless an admin names someone else.</summary>
    private async Task<(Guid Id, string Name)> OwnerAsync(Caller caller, string? forUser, string verb, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(forUser) || forUser == caller.Name) return (caller.Id, caller.Name);
        if (!caller.IsAdmin)
            throw new DfsProblemException(StatusCodes.Status403Forbidden, "Forbidden", $"Only an admin may {verb} another user's access keys.");
        var id = await db.Users.Where(u => u.Name == forUser).Select(u => (Guid?)u.Id).FirstOrDefaultAsync(ct)
                 ?? throw UserService.UnknownUser(forUser);
        return (id, forUser);
    }

    private static DfsProblemException TooMany(string user) =>
        DfsProblemException.Conflict($"{user} has {MaxKeysPerUser} access keys, the most a user may have: revoke one first.");

    private static DfsProblemException NotConfigured() =>
        new(StatusCodes.Status503ServiceUnavailable, "Access keys are not configured",
            $"This gateway has no {GatewayOptions.Section}:{nameof(GatewayOptions.AccessKeyMasterKey)} (64 hex digits), the key access keys' "
            + "secrets are sealed with: set the same one on every gateway of the cluster.");
}

/// <summary>When this gateway last recorded each key's use (see <see cref="AccessKeyService.MarkUsedAsync"/>).</summary>
public sealed class AccessKeyUsage
{
    public static readonly TimeSpan Precision = TimeSpan.FromMinutes(1);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTime> _recorded = new(StringComparer.Ordinal);

    /// <summary>True (and noted) when the key's use was last recorded here over <see cref="Precision"/> ago, or never.</summary>
    public bool IsDue(string accessKeyId, DateTime now)
    {
        if (_recorded.TryGetValue(accessKeyId, out var last) && now - last < Precision) return false;
        _recorded[accessKeyId] = now;
        return true;
    }
}
