using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Dfs.Replicator.Replication;
using Dfs.Replicator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Replicator.Tests;

/// <summary>ChunkReplicator against real storage nodes and a protocol fixture of the gateway.</summary>
public sealed class ChunkReplicatorTests(StorageCluster cluster) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeGateway _gateway = null!;
    private ServiceProvider _services = null!;

    private ChunkReplicator Replicator => _services.GetRequiredService<ChunkReplicator>();

    public async ValueTask InitializeAsync()
    {
        _gateway = await FakeGateway.StartAsync();
        _services = ReplicatorServices.Build(_gateway);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    private async Task<ReplicationOutcome> EnsureAsync(TestChunk chunk) =>
        await Replicator.EnsureReplicasAsync(_gateway.State(chunk), await Nodes(), Ct);

    private async Task<IReadOnlyList<NodeInfo>> Nodes() =>
        await _services.GetRequiredService<ReplicatorClients>().Gateway().GetNodesAsync(Ct);

    [Fact]
    public async Task A_chunk_on_one_node_reaches_three_distinct_nodes_with_identical_bytes()
    {
        var chunk = TestChunk.Random(3 * 1024 * 1024 + 7);
        await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        _gateway.AddChunk(chunk, wanted: 3, cluster.N1);

        var outcome = await EnsureAsync(chunk);

        Assert.Equal(2, outcome.CopiesMade);
        Assert.Equal(0, outcome.CopiesMissing);
        Assert.False(outcome.IsUnderReplicated);
        Assert.Empty(outcome.Failures);
        Assert.Equal(2, outcome.NewHolders.Distinct().Count());
        Assert.DoesNotContain(cluster.N1.Id, outcome.NewHolders);

        var holders = await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct);
        Assert.Equal(3, holders.Count);
        foreach (var holder in holders) Assert.True(await chunk.IsIntactOnAsync(holder, Ct));
        Assert.Equal(holders.Select(h => h.Id).Order(), _gateway.Holders(chunk.Id).Order());
        Assert.Equal(outcome.NewHolders.Order(), _gateway.Reports.Select(r => r.NodeId).Order());
    }

    [Fact]
    public async Task A_second_run_on_fresh_state_makes_no_extra_copy_and_no_report()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N2, Ct);
        _gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        _gateway.AddChunk(chunk, wanted: 3, cluster.N2);
        Assert.Equal(2, (await EnsureAsync(chunk)).CopiesMade);

        var again = await EnsureAsync(chunk);

        Assert.Equal(0, again.CopiesMade);
        Assert.Equal(0, again.CopiesMissing);
        Assert.Empty(again.Failures);
        Assert.Equal(2, _gateway.Reports.Count);
        Assert.Equal(3, (await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct)).Count);
    }

    [Fact]
    public async Task A_dead_source_falls_over_to_another_holder()
    {
        var chunk = TestChunk.Random();
        await using var doomed = await cluster.StartNodeAsync("doomed", null);
        await chunk.PutOnAsync(doomed, Ct);
        await chunk.PutOnAsync(cluster.N2, Ct);
        await doomed.Process.KillAsync();
        // The gateway has not noticed yet: the dead node is still "live", so it is tried first (live before suspect).
        _gateway.SetNodes(doomed.Info(), cluster.N2.Info(NodeStates.Suspect), cluster.N3.Info(), cluster.N4.Info());
        _gateway.AddChunk(chunk, wanted: 3, doomed, cluster.N2);

        var outcome = await EnsureAsync(chunk);

        Assert.Equal(1, outcome.CopiesMade);
        Assert.Equal(0, outcome.CopiesMissing);
        var failure = Assert.Single(outcome.Failures);
        Assert.Equal(ReplicationSide.Source, failure.Side);
        Assert.Equal(doomed.Id, failure.NodeId);
        var target = Assert.Single(await TestChunk.HoldersAsync(chunk, [cluster.N3, cluster.N4], Ct));
        Assert.True(await chunk.IsIntactOnAsync(target, Ct));
        Assert.Equal([target.Id], _gateway.Reports.Select(r => r.NodeId));
    }

    [Fact]
    public async Task A_holder_that_lost_the_chunk_falls_over_to_another_holder()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N2, Ct);
        // N1 is listed as a live holder but has no such chunk: it answers 404.
        _gateway.SetNodes(cluster.N1.Info(), cluster.N2.Info(NodeStates.Suspect), cluster.N3.Info());
        _gateway.AddChunk(chunk, wanted: 3, cluster.N1, cluster.N2);

        var outcome = await EnsureAsync(chunk);

        Assert.Equal(1, outcome.CopiesMade);
        var failure = Assert.Single(outcome.Failures);
        Assert.Equal((ReplicationSide.Source, cluster.N1.Id), (failure.Side, failure.NodeId));
        Assert.Contains("404", failure.Reason);
        Assert.True(await chunk.IsIntactOnAsync(cluster.N3, Ct));
    }

    [Fact]
    public async Task A_corrupt_source_copy_is_refused_by_the_target_and_another_holder_is_used()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N2, Ct);
        // Bit rot on N1: its file under the chunk's id holds other bytes of the same length.
        var path = cluster.N1.ChunkPath(chunk.Id);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var bytes = (byte[])chunk.Data.Clone();
        bytes[bytes.Length / 2] ^= 0xff;
        await File.WriteAllBytesAsync(path, bytes, Ct);
        try
        {
            _gateway.SetNodes(cluster.N1.Info(), cluster.N2.Info(NodeStates.Suspect), cluster.N4.Info());
            _gateway.AddChunk(chunk, wanted: 3, cluster.N1, cluster.N2);

            var outcome = await EnsureAsync(chunk);

            Assert.Equal(1, outcome.CopiesMade);
            var failure = Assert.Single(outcome.Failures);
            Assert.Equal((ReplicationSide.Source, cluster.N1.Id), (failure.Side, failure.NodeId));
            Assert.Contains("422", failure.Reason);
            Assert.True(await chunk.IsIntactOnAsync(cluster.N4, Ct));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_target_that_refuses_is_skipped_for_another()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        // "full" claims the most free space, so it is tried first; it answers 507.
        _gateway.SetNodes(cluster.N1.Info(), cluster.Full.Info(freeBytes: 1L << 50), cluster.N3.Info(freeBytes: 1L << 30));
        _gateway.AddChunk(chunk, wanted: 2, cluster.N1);

        var outcome = await EnsureAsync(chunk);

        Assert.Equal(1, outcome.CopiesMade);
        Assert.Equal([cluster.N3.Id], outcome.NewHolders);
        var failure = Assert.Single(outcome.Failures);
        Assert.Equal((ReplicationSide.Target, cluster.Full.Id), (failure.Side, failure.NodeId));
        Assert.Contains("507", failure.Reason);
        Assert.False(await StorageCluster.NodeClient.HasChunkAsync(cluster.Full.Url, chunk.Id, Ct));
        Assert.True(await chunk.IsIntactOnAsync(cluster.N3, Ct));
    }

    [Fact]
    public async Task Fewer_live_nodes_than_wanted_copies_to_every_live_node_and_reports_under_replication()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes(cluster.N1.Info(), cluster.N2.Info(), cluster.N3.Info(), cluster.N4.Info(NodeStates.Dead));
        _gateway.AddChunk(chunk, wanted: 5, cluster.N1);

        var outcome = await EnsureAsync(chunk);

        Assert.Equal(3, outcome.Target);
        Assert.Equal(2, outcome.CopiesMade);
        Assert.Equal(0, outcome.CopiesMissing);
        Assert.False(outcome.CopyFailed);
        Assert.True(outcome.IsUnderReplicated);
        Assert.Equal(2, outcome.LimitedByLiveNodes);
        Assert.Empty(outcome.Failures);
        Assert.True(await chunk.IsIntactOnAsync(cluster.N2, Ct));
        Assert.True(await chunk.IsIntactOnAsync(cluster.N3, Ct));
        Assert.False(await StorageCluster.NodeClient.HasChunkAsync(cluster.N4.Url, chunk.Id, Ct));
    }

    [Fact]
    public async Task Every_target_refusing_leaves_the_copy_missing()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes(cluster.N1.Info(), cluster.Full.Info());
        _gateway.AddChunk(chunk, wanted: 2, cluster.N1);

        var outcome = await EnsureAsync(chunk);

        Assert.Equal(0, outcome.CopiesMade);
        Assert.Equal(1, outcome.CopiesMissing);
        Assert.True(outcome.CopyFailed);
        Assert.Equal(ReplicationSide.Target, Assert.Single(outcome.Failures).Side);
        Assert.Empty(_gateway.Reports);
    }
}
