using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Testing;

namespace Dfs.IntegrationTests;

/// <summary>
/// A replicated cluster from the real AppHost: PostgreSQL, RabbitMQ, Redis, the gateway, the Replicator and four storage
/// nodes as real processes, replication factor 3, fast heartbeats, a short reconcile interval and GC grace period.
/// </summary>
public sealed class ReplicationFixture : IAsyncLifetime
{
    public const long ChunkSize = 256 * 1024;

    /// <summary>
    /// Long enough that a test sees a deleted file's chunks still on the nodes right after the DELETE even on a
    /// loaded machine, short enough that waiting for collection costs the suite little.
    /// </summary>
    public const int GcGraceMs = 3000;

    public DfsTestCluster App { get; private set; } = null!;
    public IGatewayApi Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        App = await DfsTestCluster.StartAsync(o =>
        {
            o.Nodes = 4;
            o.ReplicationFactor = 3;
            o.ChunkSizeBytes = ChunkSize;
            o.ReconcileIntervalMs = 1000;
            o.GcGraceMs = GcGraceMs;
            o.GcIntervalMs = 500;
            o.ResourceEnvironment["replicator"] = ReplicationTiming.FastRetries;
        }, TestContext.Current.CancellationToken);
        Gateway = App.CreateGateway();
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ReplicationCollection : ICollectionFixture<ReplicationFixture>
{
    public const string Name = "replication";
}

internal static class ReplicationTiming
{
    public static Dictionary<string, string> FastRetries => new()
    {
        ["Dfs__Replicator__Retry__ImmediateRetries"] = "1",
        ["Dfs__Replicator__Retry__ExponentialRetries"] = "2",
        ["Dfs__Replicator__Retry__MinBackoffMs"] = "100",
        ["Dfs__Replicator__Retry__MaxBackoffMs"] = "400",
        ["Dfs__Replicator__Retry__DeltaBackoffMs"] = "100",
    };

    /// <summary>Polls until every chunk of the file has <paramref name="copies"/> copies on distinct live nodes.</summary>
    public static async Task<EntryDetails> WaitForCopiesAsync(IGatewayApi gateway, string path, int copies, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        EntryDetails stat;
        while (true)
        {
            stat = await gateway.StatAsync(path, ct);
            if (stat.Chunks.All(c => c.Replicas.Count(r => r.NodeState == NodeStates.Live) >= copies)) return stat;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{path}: copies per chunk {string.Join(",", stat.Chunks.Select(c => c.Replicas.Count(r => r.NodeState == NodeStates.Live)))}, wanted {copies}");
            await Task.Delay(200, ct);
        }
    }
}
