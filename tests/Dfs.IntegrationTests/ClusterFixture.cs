using Dfs.AppHost.Testing;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>
/// One real cluster for the tests of a collection: PostgreSQL, the gateway and three storage nodes as
/// processes, built through the AppHost's testing builder with small chunks and fast heartbeats.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    public const long ChunkSize = 1024 * 1024;

    public DfsApplication App { get; private set; } = null!;
    public HttpClient Http { get; private set; } = null!;
    public GatewayClient Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        var builder = DfsTestingBuilder.Create(o =>
        {
            o.Profile = "local";
            o.Nodes = 3;
            o.ChunkSizeBytes = ChunkSize;
            o.ReplicationFactor = 1;
            o.HeartbeatIntervalMs = 300;
            o.NodeDeadAfterMs = 3000;
        });
        App = builder.Build();
        await App.StartAsync(TestContext.Current.CancellationToken);
        Http = App.CreateHttpClient("gateway");
        Http.Timeout = TimeSpan.FromMinutes(5);
        Gateway = new GatewayClient(Http);
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
