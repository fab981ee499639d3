using Dfs.Contracts.Clients;

namespace Dfs.Replicator.Replication;

/// <summary>
/// The Replicator's links: the gateway's internal API (a Refit control-plane client) and the storage nodes (Refit clients
/// per node, data path: no retries of spent bodies, each copy with its own time limit). Not registered as
/// IStorageNodeClient: inside the gateway (embedded profile) that would replace the gateway's own node client.
/// </summary>
public sealed class ReplicatorClients(IServiceProvider services, IHttpClientFactory httpClientFactory)
{
    /// <summary>No base address (the node's URL is set per node) and no client timeout: each copy has its own.</summary>
    public const string StorageNodesHttpClient = "Dfs.Replicator.StorageNodes";

    private readonly StorageNodeClient _storageNodes = new(() => httpClientFactory.CreateClient(StorageNodesHttpClient));

    public IStorageNodeClient StorageNodes() => _storageNodes;

    /// <summary>A client made now, so that its base address is the gateway's current one.</summary>
    public IGatewayInternalApi Gateway() => services.GetRequiredService<IGatewayInternalApi>();
}
