using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

public enum Access { Read, Write }

/// <summary>
/// Who may read or write a path: admins anything; a user their home (/home/NAME and below) and what was shared with
/// them (read or readwrite, on the shared path and below). Decided from the path alone, before it is looked up,
/// so a refusal never says whether the path exists. One instance per request (it remembers the caller's shares).
/// </summary>
public sealed class AccessControl(MetadataDbContext db)
{
    private IReadOnlyList<(string Path, string Access)>? _received;
    private Guid _receivedFor;

    public async Task<bool> CanAsync(Caller caller, string path, Access access, CancellationToken ct)
    {
        if (caller.IsAdmin || UserNames.IsInHome(caller.Name, path)) return true;
        foreach (var share in await ReceivedAsync(caller, ct))
            if (DfsPath.IsSameOrBelow(path, share.Path) && (access == Access.Read || share.Access == ShareAccess.ReadWrite))
                return true;
        return false;
    }

    /// <summary>Throws the 403 problem unless <paramref name="caller"/> may <paramref name="access"/> <paramref name="path"/>.</summary>
    public async Task RequireAsync(Caller caller, string path, Access access, CancellationToken ct)
    {
        if (!await CanAsync(caller, path, access, ct)) throw Forbidden(path, access);
    }

    /// <summary>
    /// For a directory the caller may not read but that lies above something they may (/, /home, the parents of a
    /// share): the names of its children that lead there. Null when <paramref name="path"/> leads to nothing readable.
    /// </summary>
    public async Task<IReadOnlySet<string>?> LeadingChildrenAsync(Caller caller, string path, CancellationToken ct)
    {
        var roots = (await ReceivedAsync(caller, ct)).Select(s => s.Path).Append(caller.Home);
        var prefix = path == DfsPath.Root ? "/" : path + "/";
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var root in roots)
        {
            if (!root.StartsWith(prefix, StringComparison.Ordinal)) continue;
            var rest = root[prefix.Length..];
            var slash = rest.IndexOf('/');
            names.Add(slash < 0 ? rest : rest[..slash]);
        }
        return names.Count > 0 ? names : null;
    }

    public static DfsProblemException Forbidden(string path, Access access) =>
        new(StatusCodes.Status403Forbidden, "Forbidden", $"You may not {(access == Access.Read ? "read" : "write")} {path}.");

    private async Task<IReadOnlyList<(string Path, string Access)>> ReceivedAsync(Caller caller, CancellationToken ct)
    {
        if (_received is not null && _receivedFor == caller.Id) return _received;
        var rows = await db.Shares.Where(s => s.GranteeId == caller.Id).Select(s => new { s.Path, s.Access }).ToListAsync(ct);
        _received = rows.Select(r => (r.Path, r.Access)).ToList();
        _receivedFor = caller.Id;
        return _received;
    }
}
