using Dfs.Contracts.Clients;

namespace Dfs.Replicator.Replication;

/// <summary>
/// Creates the Replicator's clients from its own named HttpClients. Not registered as IStorageNodeClient /
/// IClusterClient services: inside the gateway (embedded profile) those would replace the gateway's own
/// registrations. A client is created per unit of work, so the gateway address is read each time.
/// </summary>
public sealed class ReplicatorClients(IHttpClientFactory httpClientFactory)
{
    /// <summary>No base address (nodes are named per call) and no client timeout: each copy has its own.</summary>
    public const string StorageNodesHttpClient = "Dfs.Replicator.StorageNodes";

    /// <summary>Base address from <see cref="Hosting.IGatewayAddress"/>, read when the client is created.</summary>
    public const string GatewayHttpClient = "Dfs.Replicator.Gateway";

    public IStorageNodeClient StorageNodes() => new StorageNodeClient(httpClientFactory.CreateClient(StorageNodesHttpClient));

    public IClusterClient Gateway() => new ClusterClient(httpClientFactory.CreateClient(GatewayHttpClient));
}
