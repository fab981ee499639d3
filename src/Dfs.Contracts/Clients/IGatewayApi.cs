using Dfs.Contracts.Api;
using Refit;

namespace Dfs.Contracts.Clients;

/// <summary>
/// The gateway's public API (/api), as `dfs`, the tests and other .NET clients call it. {**path} is a Dfs path with its
/// leading slash: Refit escapes each segment and keeps the slashes. Files go up and down as streams: PUT takes an
/// <see cref="HttpContent"/> and GET answers the <see cref="HttpResponseMessage"/> unread (see
/// <see cref="GatewayApiExtensions"/> for the convenient forms). A failed call throws <see cref="DfsApiException"/>.
/// </summary>
public interface IGatewayApi
{
    [Put("/api/files{**path}")]
    Task<PutFileResult> PutFileAsync(string path, [Body] HttpContent content, [Query] string conflict, [Query] int? replication,
        [Header("Repr-Digest")] string? reprDigest, [Query] string? durability = null, CancellationToken ct = default);

    [Get("/api/files{**path}")]
    Task<HttpResponseMessage> GetFileResponseAsync(string path, [Header("Range")] string? range, CancellationToken ct = default);

    [Head("/api/files{**path}")]
    Task<HttpResponseMessage> HeadFileAsync(string path, CancellationToken ct = default);

    /// <summary>Signed URLs to read each chunk of the file straight from the nodes (what `dfs get` does).</summary>
    [Get("/api/layout{**path}")]
    Task<FileLayout> GetLayoutAsync(string path, CancellationToken ct = default);

    [Get("/api/stat{**path}")]
    Task<EntryDetails> StatAsync(string path, CancellationToken ct = default);

    [Get("/api/list{**path}")]
    Task<ListingPage> ListAsync(string path, [Query] string? cursor = null, [Query] int? limit = null, CancellationToken ct = default);

    [Put("/api/dirs{**path}")]
    Task<EntryInfo> MkdirAsync(string path, [Query] bool parents, CancellationToken ct = default);

    [Post("/api/move")]
    Task<EntryInfo> MoveAsync([Body] MoveRequest request, CancellationToken ct = default);

    [Delete("/api/entries{**path}")]
    Task DeleteAsync(string path, [Query] bool recursive, CancellationToken ct = default);

    [Get("/api/nodes")]
    Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken ct = default);

    [Get("/api/cluster")]
    Task<ClusterSummary> GetClusterAsync(CancellationToken ct = default);

    [Get("/api/gateway")]
    Task<GatewayInstanceInfo> GetGatewayAsync(CancellationToken ct = default);

    [Get("/api/cluster/replication")]
    Task<ReplicationStatus> GetReplicationAsync(CancellationToken ct = default);

    /// <summary>Starts draining a node (idempotent); {node} is its id or name.</summary>
    [Post("/api/nodes/{node}/drain")]
    Task<NodeDrainStatus> DrainNodeAsync(string node, CancellationToken ct = default);

    [Get("/api/nodes/{node}/drain")]
    Task<NodeDrainStatus> GetDrainStatusAsync(string node, CancellationToken ct = default);

    [Delete("/api/nodes/{node}/drain")]
    Task<NodeDrainStatus> CancelDrainAsync(string node, CancellationToken ct = default);

    /// <summary>Refused (409) unless the node is drained or <paramref name="force"/> is set.</summary>
    [Delete("/api/nodes/{node}")]
    Task RemoveNodeAsync(string node, [Query] bool force = false, CancellationToken ct = default);

    [Post("/api/auth/tokens")]
    Task<TokenCreated> CreateTokenAsync([Body] CreateTokenRequest request, CancellationToken ct = default);

    [Get("/api/auth/tokens")]
    Task<IReadOnlyList<TokenInfo>> ListTokensAsync(CancellationToken ct = default);

    /// <summary>Revokes the bearer token the request carries.</summary>
    [Delete("/api/auth/tokens/current")]
    Task RevokeCurrentTokenAsync(CancellationToken ct = default);

    [Delete("/api/auth/tokens/{id}")]
    Task RevokeTokenAsync(Guid id, CancellationToken ct = default);

    [Get("/api/auth/whoami")]
    Task<WhoAmI> WhoAmIAsync(CancellationToken ct = default);

    [Post("/api/auth/password")]
    Task ChangePasswordAsync([Body] ChangePasswordRequest request, CancellationToken ct = default);

    [Get("/api/users")]
    Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken ct = default);

    [Post("/api/users")]
    Task<UserCreated> CreateUserAsync([Body] CreateUserRequest request, CancellationToken ct = default);

    [Patch("/api/users/{name}")]
    Task<UserInfo> UpdateUserAsync(string name, [Body] UpdateUserRequest request, CancellationToken ct = default);

    [Delete("/api/users/{name}")]
    Task DeleteUserAsync(string name, CancellationToken ct = default);

    [Get("/api/shares")]
    Task<ShareList> ListSharesAsync([Query] bool? all = null, CancellationToken ct = default);

    [Post("/api/shares")]
    Task<ShareInfo> CreateShareAsync([Body] CreateShareRequest request, CancellationToken ct = default);

    [Delete("/api/shares/{id}")]
    Task DeleteShareAsync(Guid id, CancellationToken ct = default);

    /// <summary>An S3 access key for the caller, or (admin) for request.User; the secret is in this answer only.</summary>
    [Post("/api/keys")]
    Task<AccessKeyCreated> CreateAccessKeyAsync([Body] CreateAccessKeyRequest request, CancellationToken ct = default);

    /// <summary>The caller's access keys; an admin may name a user, or leave it out for everyone's.</summary>
    [Get("/api/keys")]
    Task<IReadOnlyList<AccessKeyInfo>> ListAccessKeysAsync([Query] string? user = null, CancellationToken ct = default);

    [Delete("/api/keys/{id}")]
    Task RevokeAccessKeyAsync(string id, CancellationToken ct = default);
}
