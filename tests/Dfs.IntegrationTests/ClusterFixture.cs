using Dfs.Contracts.Clients;
using Dfs.Testing;

namespace Dfs.IntegrationTests;

/// <summary>
/// One real cluster for the tests of a collection, started from the real AppHost through Aspire.Hosting.Testing:
/// PostgreSQL, RabbitMQ, Redis, the gateway, the Replicator and three storage nodes, small chunks, fast heartbeats,
/// replication factor 1 (the replication tests have their own cluster).
/// </summary>
public class ClusterFixture : IAsyncLifetime
{
    public const long ChunkSize = 1024 * 1024;

    /// <summary>The gateway's domain for virtual-host-style S3 requests (BUCKET.s3.localhost).</summary>
    public const string S3Domain = "s3.localhost";

    public DfsTestCluster App { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public IGatewayApi Gateway { get; private set; } = null!;

    protected virtual void Configure(DfsClusterOptions options)
    {
    }

    public async ValueTask InitializeAsync()
    {
        App = await DfsTestCluster.StartAsync(o =>
        {
            o.Nodes = 3;
            o.ChunkSizeBytes = ChunkSize;
            o.ReplicationFactor = 1;
            o.ResourceEnvironment[Dfs.AppHost.Cluster.DfsCluster.GatewayName] = new() { ["Dfs__Gateway__S3Domain"] = S3Domain };
            Configure(o);
        }, TestContext.Current.CancellationToken);
        Http = App.CreateGatewayClient();
        Gateway = DfsRefit.Gateway(Http);
    }

    /// <summary>Where a node keeps a chunk on disk (its content-addressed layout), for fault injection.</summary>
    public string ChunkFile(string nodeName, string chunkId)
    {
        var path = App.ChunkFilePath(nodeName, chunkId);
        Assert.True(File.Exists(path), $"chunk file {path} missing");
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        Http?.Dispose();
        if (App is not null) await App.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

/// <summary>
/// The same cluster shape for the tests that kill, stop, add, drain or fill nodes: their faults must not be seen by tests
/// that check the whole cluster's state (every node live, three of them), so they get a cluster of their own. One spare
/// node is declared for the test that starts it through the gateway's "Add storage node".
/// </summary>
public sealed class FaultClusterFixture : ClusterFixture
{
    protected override void Configure(DfsClusterOptions options) => options.SpareNodes = 1;
}

[CollectionDefinition(Name)]
public sealed class FaultCollection : ICollectionFixture<FaultClusterFixture>
{
    public const string Name = "faults";
}
