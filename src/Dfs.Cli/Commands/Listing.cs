using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Paths;

namespace Dfs.Cli.Commands;

/// <summary>Directory reads shared by ls and tree.</summary>
internal static class Listing
{
    /// <summary>Every entry of one folder, all pages, retried as a whole on transient errors.</summary>
    public static Task<List<EntryInfo>> ReadAsync(CliSession session, IGatewayApi client, string path, CancellationToken ct) =>
        session.RetryAsync(async attemptCt =>
        {
            var entries = new List<EntryInfo>();
            await foreach (var entry in client.ListAllAsync(path, attemptCt)) entries.Add(entry);
            return entries;
        }, ct);

    /// <summary>The entry at <paramref name="path"/> (the root needs no round trip).</summary>
    public static async Task<EntryInfo> StatEntryAsync(CliSession session, IGatewayApi client, string path, CancellationToken ct)
    {
        if (path == DfsPath.Root) return new EntryInfo(DfsPath.Root, "", EntryKind.Directory, 0, default);
        var details = await session.RetryAsync(c => client.StatAsync(path, c), ct);
        return new EntryInfo(details.Path, details.Name, details.Kind, details.Size, details.ModifiedAt, details.Version, details.Md5, details.Sha256);
    }
}
