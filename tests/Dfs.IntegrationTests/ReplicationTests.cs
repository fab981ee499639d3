using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>Replication over RabbitMQ with the Replicator as its own process, and what happens when parts fail.</summary>
[Collection(ReplicationCollection.Name)]
public sealed class ReplicationTests(ReplicationFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_stored_file_reaches_three_copies_on_three_distinct_nodes()
    {
        var data = TestData.Random(3 * ReplicationFixture.ChunkSize + 10, 61);
        await cluster.Gateway.PutFileAsync("/rep/three.bin", new MemoryStream(data), ct: Ct);
        var stat = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/three.bin", 3, Soon, Ct);
        Assert.All(stat.Chunks, c => Assert.Equal(3, c.Replicas.Select(r => r.NodeId).Distinct().Count()));

        // Every copy holds the right bytes.
        using var nodeHttp = cluster.App.CreateClusterHttpClient();
        var nodes = new StorageNodeClient(cluster.App.CreateClusterHttpClient);
        foreach (var chunk in stat.Chunks)
            foreach (var replica in chunk.Replicas)
            {
                var buffer = new byte[chunk.Size];
                await nodes.ReadChunkAsync(new Uri(replica.NodeUrl), chunk.Id, buffer, Ct);
                Assert.Equal(chunk.Id, TestData.Sha256(buffer));
            }
    }

    [Fact]
    public async Task A_per_file_replication_factor_is_honoured()
    {
        await cluster.Gateway.PutFileAsync("/rep/two.bin", new MemoryStream(TestData.Random(1000, 62)), new PutFileOptions(ReplicationFactor: 2), Ct);
        await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/two.bin", 2, Soon, Ct);
        await Task.Delay(2000, Ct);
        var stat = await cluster.Gateway.StatAsync("/rep/two.bin", Ct);
        Assert.All(stat.Chunks, c => Assert.True(c.Replicas.Count == 2, string.Join(", ", c.Replicas.Select(r => $"{r.NodeName}:{r.NodeState}"))));
    }

    [Fact]
    public async Task Killing_the_node_with_the_first_copy_keeps_reads_working_and_restores_three_copies()
    {
        var data = TestData.Random(2 * ReplicationFixture.ChunkSize, 63);
        await cluster.Gateway.PutFileAsync("/rep/kill.bin", new MemoryStream(data), ct: Ct);
        var stat = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/kill.bin", 3, Soon, Ct);
        var victim = stat.Chunks[0].Replicas[0].NodeName;

        await cluster.App.KillResourceAsync(victim, Ct);
        try
        {
            Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/rep/kill.bin", Ct));
            await cluster.Gateway.WaitForNodeStateAsync(victim, NodeStates.Dead, Ct);
            // Dead after 3 s, then NodeLost and the reconciler bring every chunk back to 3 copies on live nodes.
            var repaired = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/kill.bin", 3, Soon, Ct);
            Assert.All(repaired.Chunks, c => Assert.DoesNotContain(c.Replicas, r => r.NodeName == victim && r.NodeState == NodeStates.Live));
            Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/rep/kill.bin", Ct));
        }
        finally
        {
            await cluster.App.StartResourceAsync(victim, Ct);
            await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
        }
    }

    [Fact]
    public async Task Files_stored_while_the_replicator_is_stopped_are_replicated_when_it_returns()
    {
        await cluster.App.StopResourceAsync(DfsCluster.ReplicatorName, Ct);
        try
        {
            for (var i = 0; i < 3; i++)
                await cluster.Gateway.PutFileAsync($"/rep/offline-{i}.bin", new MemoryStream(TestData.Random(50_000, 70 + i)), ct: Ct);
            var stat = await cluster.Gateway.StatAsync("/rep/offline-0.bin", Ct);
            Assert.Single(stat.Chunks[0].Replicas);
        }
        finally
        {
            await cluster.App.StartResourceAsync(DfsCluster.ReplicatorName, Ct);
        }
        for (var i = 0; i < 3; i++)
            await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, $"/rep/offline-{i}.bin", 3, Soon, Ct);
    }

    [Fact]
    public async Task Puts_succeed_while_rabbitmq_is_down_and_the_files_still_reach_three_copies()
    {
        await cluster.App.StopResourceAsync(DfsCluster.MessagingName, Ct);
        try
        {
            for (var i = 0; i < 3; i++)
            {
                var put = await cluster.Gateway.PutFileAsync($"/rep/no-broker-{i}.bin", new MemoryStream(TestData.Random(40_000, 80 + i)), ct: Ct);
                Assert.Equal(1, put.Version);
            }
            var status = await cluster.Gateway.GetReplicationAsync(Ct);
            Assert.NotNull(status!.MessagingError);
        }
        finally
        {
            await cluster.App.StartResourceAsync(DfsCluster.MessagingName, Ct);
        }
        for (var i = 0; i < 3; i++)
            await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, $"/rep/no-broker-{i}.bin", 3, TimeSpan.FromSeconds(60), Ct);
    }

    [Fact]
    public async Task A_corrupted_copy_is_never_served_and_is_replaced()
    {
        var data = TestData.Random(100_000, 64);
        await cluster.Gateway.PutFileAsync("/rep/corrupt.bin", new MemoryStream(data), ct: Ct);
        var stat = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/corrupt.bin", 3, Soon, Ct);
        var chunk = stat.Chunks.Single();

        // Corrupt every copy but one, so the read must find the good one whatever the order.
        foreach (var replica in chunk.Replicas.Take(2))
            FaultTests.FlipByte(cluster.App.ChunkFilePath(replica.NodeName, chunk.Id), 100);
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/rep/corrupt.bin", Ct));

        // The bad copies are dropped and good ones copied back: in the end every copy verifies.
        var deadline = DateTime.UtcNow + Soon;
        while (true)
        {
            stat = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/corrupt.bin", 3, Soon, Ct);
            var files = stat.Chunks.Single().Replicas.Select(r => cluster.App.ChunkFilePath(r.NodeName, chunk.Id)).ToList();
            if (files.All(f => File.Exists(f) && TestData.Sha256(File.ReadAllBytes(f)) == chunk.Id)) break;
            if (DateTime.UtcNow > deadline) Assert.Fail("corrupt copies were not replaced");
            await Task.Delay(300, Ct);
        }
    }

    [Fact]
    public async Task Deleted_files_keep_their_chunks_for_the_grace_period_then_lose_them_on_every_node_but_shared_chunks_stay()
    {
        var shared = TestData.Random(ReplicationFixture.ChunkSize, 65);
        var a = shared.Concat(TestData.Random(1000, 66)).ToArray();
        var b = shared.Concat(TestData.Random(2000, 67)).ToArray();
        await cluster.Gateway.PutFileAsync("/rep/gc-a.bin", new MemoryStream(a), ct: Ct);
        await cluster.Gateway.PutFileAsync("/rep/gc-b.bin", new MemoryStream(b), ct: Ct);
        var statA = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/gc-a.bin", 3, Soon, Ct);
        await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/rep/gc-b.bin", 3, Soon, Ct);
        var sharedId = statA.Chunks[0].Id;
        var unique = statA.Chunks[1];
        var holders = NodesHolding(unique.Id);
        Assert.Equal(3, holders.Count);
        var usedBefore = await SettledUsedBytesAsync(holders);

        var deleting = Stopwatch.StartNew();
        await cluster.Gateway.DeleteAsync("/rep/gc-a.bin", recursive: false, Ct);
        // The bytes outlive the name: the grace period lets an upload racing the delete still reuse them.
        var stillThere = NodesHolding(unique.Id);
        var lookedAt = deleting.Elapsed;
        Assert.True(holders.SequenceEqual(stillThere), $"{lookedAt} after the delete the chunk is only on {string.Join(", ", stillThere)}");
        var gone = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.StatAsync("/rep/gc-a.bin", Ct));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var deadline = DateTime.UtcNow + Soon;
        while (NodesHolding(unique.Id).Count > 0)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"chunk {unique.Id} is still on {string.Join(", ", NodesHolding(unique.Id))}");
            await Task.Delay(100, Ct);
        }
        Assert.True(deleting.Elapsed >= TimeSpan.FromMilliseconds(ReplicationFixture.GcGraceMs),
            $"collected {deleting.Elapsed} after the delete, before the {ReplicationFixture.GcGraceMs} ms grace period");
        Assert.True(NodesHolding(sharedId).Count >= 3);
        Assert.Equal(TestData.Sha256(b), await cluster.Gateway.DownloadSha256Async("/rep/gc-b.bin", Ct));

        // The nodes report the space as free again: each holder's used bytes drop by the collected chunk's size.
        deadline = DateTime.UtcNow + Soon;
        while (true)
        {
            var used = (await cluster.Gateway.GetNodesAsync(Ct)).Where(n => holders.Contains(n.Name)).ToDictionary(n => n.Name, n => n.UsedBytes);
            if (holders.All(h => used[h] <= usedBefore[h] - unique.Size)) break;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"used bytes before {string.Join(", ", usedBefore)}, after {string.Join(", ", used)}; wanted {unique.Size} less on each");
            await Task.Delay(200, Ct);
        }
    }

    /// <summary>
    /// Used bytes of the nodes as reported by heartbeats sent after everything they stored so far: a heartbeat
    /// received two intervals after now carries a usage measured after now.
    /// </summary>
    private async Task<Dictionary<string, long>> SettledUsedBytesAsync(IReadOnlyCollection<string> names)
    {
        var after = DateTime.UtcNow + TimeSpan.FromMilliseconds(2 * 300);
        var deadline = DateTime.UtcNow + Soon;
        while (true)
        {
            var nodes = (await cluster.Gateway.GetNodesAsync(Ct)).Where(n => names.Contains(n.Name)).ToList();
            if (nodes.Count == names.Count && nodes.All(n => n.LastHeartbeatAt > after)) return nodes.ToDictionary(n => n.Name, n => n.UsedBytes);
            if (DateTime.UtcNow > deadline) Assert.Fail("no fresh heartbeat from " + string.Join(", ", names));
            await Task.Delay(100, Ct);
        }
    }

    private List<string> NodesHolding(string chunkId) =>
        [.. cluster.App.StorageNodes.Where(node => File.Exists(cluster.App.ChunkFilePath(node, chunkId)))];
}
