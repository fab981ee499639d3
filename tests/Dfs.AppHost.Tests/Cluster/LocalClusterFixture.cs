using Dfs.Testing;

namespace Dfs.AppHost.Tests.Cluster;

/// <summary>
/// One real local-profile cluster (PostgreSQL, RabbitMQ + epmd, Redis, gateway, three nodes, Replicator) with crash
/// restarts on, shared by the tests of <see cref="ClusterTests"/>: each test works on its own resource and leaves it
/// running and healthy, so that they do not interfere.
/// </summary>
public sealed class LocalClusterFixture : IAsyncLifetime
{
    private DfsTestCluster? _cluster;

    public DfsTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster did not start.");

    public async ValueTask InitializeAsync()
    {
        _cluster = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 3;
            o.ReplicationFactor = 2;
            o.RestartCrashed = true;
        }, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null) await _cluster.DisposeAsync();
    }
}
