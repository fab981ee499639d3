using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Clients;

/// <summary>The gateway's internal API (/internal), used by storage nodes and the Replicator.</summary>
public interface IClusterClient
{
    Task<NodeRegistrationAck> RegisterNodeAsync(NodeRegistration registration, CancellationToken ct = default);

    /// <summary>False when the gateway does not know the node (it must register again).</summary>
    Task<bool> HeartbeatAsync(Guid nodeId, NodeHeartbeat heartbeat, CancellationToken ct = default);

    Task ReportReplicaAsync(ReplicaReport report, CancellationToken ct = default);

    Task<ReplicationWork> GetReplicationWorkAsync(int limit, CancellationToken ct = default);

    /// <summary>The current holders (not dead) and wanted copies of the given chunks; unknown ids are left out.</summary>
    Task<ReplicationWork> GetChunkStateAsync(IReadOnlyList<string> chunkIds, CancellationToken ct = default);

    /// <summary>GET /internal/nodes: the same list as the public /api/nodes, for cluster members (no user needed).</summary>
    Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken ct = default);
}

public sealed class ClusterClient(HttpClient http) : IClusterClient
{
    public async Task<NodeRegistrationAck> RegisterNodeAsync(NodeRegistration registration, CancellationToken ct = default)
    {
        using var response = await http.PostAsJsonAsync($"{ApiRoutes.InternalNodes}/register", registration, DfsJson.Options, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<NodeRegistrationAck>(DfsJson.Options, ct))!;
    }

    public async Task<bool> HeartbeatAsync(Guid nodeId, NodeHeartbeat heartbeat, CancellationToken ct = default)
    {
        using var response = await http.PostAsJsonAsync($"{ApiRoutes.InternalNodes}/{nodeId}/heartbeat", heartbeat, DfsJson.Options, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return true;
    }

    public async Task ReportReplicaAsync(ReplicaReport report, CancellationToken ct = default)
    {
        using var response = await http.PostAsJsonAsync(ApiRoutes.InternalReplicas, report, DfsJson.Options, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
    }

    public async Task<ReplicationWork> GetReplicationWorkAsync(int limit, CancellationToken ct = default)
    {
        using var response = await http.GetAsync($"{ApiRoutes.InternalReplicationWork}?limit={limit}", ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<ReplicationWork>(DfsJson.Options, ct))!;
    }

    public async Task<ReplicationWork> GetChunkStateAsync(IReadOnlyList<string> chunkIds, CancellationToken ct = default)
    {
        using var response = await http.PostAsJsonAsync(ApiRoutes.InternalReplicationState, chunkIds, DfsJson.Options, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<ReplicationWork>(DfsJson.Options, ct))!;
    }

    public async Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken ct = default)
    {
        using var response = await http.GetAsync(ApiRoutes.InternalNodes, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<List<NodeInfo>>(DfsJson.Options, ct))!;
    }
}
