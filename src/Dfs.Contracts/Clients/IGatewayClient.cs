using Dfs.Contracts.Api;

namespace Dfs.Contracts.Clients;

/// <summary>The gateway's public API (/api), as the CLI, the tests and the dashboard use it.</summary>
public interface IGatewayClient
{
    Task<PutFileResult> PutFileAsync(string path, Stream content, PutFileOptions? options = null, CancellationToken ct = default);

    /// <summary>Opens a download; dispose it. Throws <see cref="DfsApiException"/> on a non-success answer.</summary>
    Task<DfsDownload> GetFileAsync(string path, ByteRange? range = null, CancellationToken ct = default);

    Task<EntryDetails> StatAsync(string path, CancellationToken ct = default);
    Task<ListingPage> ListAsync(string path, string? cursor = null, int? limit = null, CancellationToken ct = default);
    IAsyncEnumerable<EntryInfo> ListAllAsync(string path, CancellationToken ct = default);
    Task<EntryInfo> MkdirAsync(string path, bool parents, CancellationToken ct = default);
    Task<EntryInfo> MoveAsync(string from, string to, CancellationToken ct = default);
    Task DeleteAsync(string path, bool recursive, CancellationToken ct = default);
    Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken ct = default);
    Task<ClusterSummary> GetClusterAsync(CancellationToken ct = default);

    /// <summary>Starts draining a node (by id or name; idempotent): its chunks get copies elsewhere and it takes no new ones.</summary>
    Task<NodeDrainStatus> DrainNodeAsync(string node, CancellationToken ct = default);

    Task<NodeDrainStatus> GetDrainStatusAsync(string node, CancellationToken ct = default);

    /// <summary>Stops draining: the node takes new chunks again and its copies count again.</summary>
    Task<NodeDrainStatus> CancelDrainAsync(string node, CancellationToken ct = default);

    /// <summary>
    /// Forgets a node and its copies. Refused (409) unless it is drained, or <paramref name="force"/> is set
    /// (the Replicator then restores its chunks from other copies where there are any).
    /// </summary>
    Task RemoveNodeAsync(string node, bool force = false, CancellationToken ct = default);

    /// <summary>A bearer token for the caller (any credential); <paramref name="ttlHours"/> null = the gateway's lifetime.</summary>
    Task<TokenCreated> CreateTokenAsync(string? name = null, int? ttlHours = null, CancellationToken ct = default);

    Task<IReadOnlyList<TokenInfo>> ListTokensAsync(CancellationToken ct = default);

    /// <summary>Revokes the bearer token this client authenticates with (`dfs logout`); a 400 with Basic credentials.</summary>
    Task RevokeCurrentTokenAsync(CancellationToken ct = default);

    /// <summary>Revokes one of the caller's tokens (an admin: anyone's).</summary>
    Task RevokeTokenAsync(Guid id, CancellationToken ct = default);

    Task<WhoAmI> WhoAmIAsync(CancellationToken ct = default);

    Task ChangePasswordAsync(string currentPassword, string newPassword, CancellationToken ct = default);

    /// <summary>Admin only, like the other user methods.</summary>
    Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken ct = default);

    Task<UserCreated> CreateUserAsync(CreateUserRequest request, CancellationToken ct = default);

    Task<UserInfo> UpdateUserAsync(string name, UpdateUserRequest request, CancellationToken ct = default);

    /// <summary>Deletes the user, their tokens and the shares to and from them; their home's files stay.</summary>
    Task DeleteUserAsync(string name, CancellationToken ct = default);

    /// <summary>Shares the caller gave and received; <paramref name="all"/> (admin) lists every share as Given.</summary>
    Task<ShareList> ListSharesAsync(bool all = false, CancellationToken ct = default);

    /// <summary>Grants <paramref name="user"/> <paramref name="access"/> ("read" or "readwrite") on a path the caller owns.</summary>
    Task<ShareInfo> CreateShareAsync(string path, string user, string access, CancellationToken ct = default);

    Task DeleteShareAsync(Guid id, CancellationToken ct = default);
}

public sealed record PutFileOptions(
    ConflictPolicy Conflict = ConflictPolicy.Fail,
    string? Md5Hex = null,
    string? Sha256Hex = null,
    int? ReplicationFactor = null);

/// <summary>An inclusive byte range; To null means to the end.</summary>
public readonly record struct ByteRange(long From, long? To)
{
    public override string ToString() => $"bytes={From}-{To}";
}

/// <summary>An open download: the body stream plus the integrity headers the gateway sent.</summary>
public sealed class DfsDownload(HttpResponseMessage response, Stream content) : IAsyncDisposable, IDisposable
{
    public Stream Content { get; } = content;
    public long? Length => response.Content.Headers.ContentLength;
    public string? ETag => response.Headers.ETag?.Tag;
    public string? Md5Hex => ETag?.Trim('"');
    public string? Sha256Hex =>
        response.Headers.TryGetValues(Integrity.Digests.ReprDigestHeader, out var values)
        && Integrity.Digests.TryParseReprDigestSha256(string.Join(',', values), out var hex, out _) ? hex : null;
    public int? Version =>
        response.Headers.TryGetValues(ApiRoutes.VersionHeader, out var values) && int.TryParse(values.FirstOrDefault(), out var v) ? v : null;
    public bool IsPartial => response.StatusCode == System.Net.HttpStatusCode.PartialContent;

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        response.Dispose();
    }

    public void Dispose()
    {
        Content.Dispose();
        response.Dispose();
    }
}
