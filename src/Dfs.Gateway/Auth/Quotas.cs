using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

/// <summary>The quota of the user owning a path (null = unlimited or admin-owned).</summary>
public sealed record QuotaLimit(string User, long QuotaBytes);

/// <summary>
/// Per-user quotas: a user's usage is the size of the current versions of the files under their home, whoever
/// wrote them. Checked before an upload reads its body (when the length is known) and again inside the commit's
/// transaction, so racing uploads cannot together pass the quota.
/// </summary>
public static class Quotas
{
    public static async Task<QuotaLimit?> LimitForAsync(MetadataDbContext db, string path, CancellationToken ct)
    {
        if (UserNames.OwnerOf(path) is not { } owner) return null;
        var quota = await db.Users.Where(u => u.Name == owner).Select(u => u.QuotaBytes).FirstOrDefaultAsync(ct);
        return quota is { } bytes ? new QuotaLimit(owner, bytes) : null;
    }

    public static async Task<long> UsedBytesAsync(MetadataDbContext db, string user, CancellationToken ct)
    {
        var prefix = UserNames.Home(user) + "/";
        return await (from e in db.Entries
                      where e.Kind == EntryKind.File && e.Path.StartsWith(prefix)
                      join v in db.Versions on e.CurrentVersionId equals v.Id
                      select (long?)v.Size).SumAsync(ct) ?? 0;
    }

    /// <summary>
    /// Throws the 507 problem when storing <paramref name="size"/> more bytes at <paramref name="path"/> (replacing
    /// <paramref name="replacedBytes"/>, an overwritten version) would take its owner over their quota.
    /// </summary>
    public static async Task CheckAsync(MetadataDbContext db, string path, long size, long replacedBytes, CancellationToken ct)
    {
        if (await LimitForAsync(db, path, ct) is not { } limit) return;
        // Inside a READ COMMITTED commit (PostgreSQL), uploads into one home take turns at the quota: the owner's row
        // stays locked until the commit ends, so two of them cannot each see room for both.
        if (db.Database.IsNpgsql() && db.Database.CurrentTransaction is not null)
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM users WHERE \"Name\" = {limit.User} FOR UPDATE", ct);
        var used = await UsedBytesAsync(db, limit.User, ct);
        if (used - replacedBytes + size > limit.QuotaBytes)
            throw new DfsProblemException(StatusCodes.Status507InsufficientStorage, DfsApiException.QuotaExceededTitle,
                $"{limit.User} has used {used} of a {limit.QuotaBytes}-byte quota; {path} needs {size} bytes. Nothing was committed.");
    }
}
