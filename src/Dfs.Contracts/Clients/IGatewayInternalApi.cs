using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Refit;

namespace Dfs.Contracts.Clients;

/// <summary>
/// The gateway's internal API (/internal), for the members of the cluster: storage nodes register and heartbeat, the
/// Replicator asks for work and reports copies. Every request is signed with the cluster secret (a handler of the
/// services' HttpClients does it). A failed call throws <see cref="DfsApiException"/>.
/// </summary>
public interface IGatewayInternalApi
{
    [Post("/internal/nodes/register")]
    Task<NodeRegistrationAck> RegisterNodeAsync([Body] NodeRegistration registration, CancellationToken ct = default);

    /// <summary>204 recorded, 404 unknown node (register again), 410 removed node (stop): read with <see cref="GatewayApiExtensions.HeartbeatAsync"/>.</summary>
    [Post("/internal/nodes/{nodeId}/heartbeat")]
    Task<HttpResponseMessage> HeartbeatResponseAsync(Guid nodeId, [Body] NodeHeartbeat heartbeat, CancellationToken ct = default);

    [Post("/internal/replicas")]
    Task ReportReplicaAsync([Body] ReplicaReport report, CancellationToken ct = default);

    /// <summary>A node's scrubber found its copy corrupt; answered once the gateway no longer counts that copy (idempotent).</summary>
    [Post("/internal/replicas/corrupt")]
    Task ReportCorruptReplicaAsync([Body] CorruptReplicaReport report, CancellationToken ct = default);

    [Get("/internal/replication/work")]
    Task<ReplicationWork> GetReplicationWorkAsync([Query] int limit, CancellationToken ct = default);

    [Post("/internal/replication/state")]
    Task<ReplicationWork> GetChunkStateAsync([Body] string[] chunkIds, CancellationToken ct = default);

    [Get("/internal/nodes")]
    Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken ct = default);
}
