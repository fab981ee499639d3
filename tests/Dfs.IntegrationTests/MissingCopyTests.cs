using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>
/// Copies the metadata records but a node no longer has (its chunk file is gone): they must stop counting and be
/// replaced, whether the node was down when the file went or answers 404 for it while live.
/// </summary>
[Collection(ReplicationCollection.Name)]
public sealed class MissingCopyTests(ReplicationFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_dead_node_that_returns_without_a_chunk_loses_its_record_and_the_chunk_is_back_at_three_real_copies()
    {
        var data = TestData.Random(100_000, 111);
        await cluster.Gateway.PutFileAsync("/missing/returning.bin", new MemoryStream(data), ct: Ct);
        var chunk = (await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/missing/returning.bin", 3, Soon, Ct)).Chunks.Single();
        var victim = chunk.Replicas[0].NodeName;

        await cluster.App.KillResourceAsync(victim, Ct);
        try
        {
            await cluster.Gateway.WaitForNodeStateAsync(victim, NodeStates.Dead, Ct);
            // The copy is lost while the node is down: when it comes back its record is stale.
            File.Delete(cluster.App.ChunkFilePath(victim, chunk.Id));
        }
        finally
        {
            await cluster.App.StartResourceAsync(victim, Ct);
            await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
        }

        // Nothing reads the file here, so only the check of the returning node's inventory can drop the stale record.
        await WaitForRealCopiesAsync("/missing/returning.bin", chunk.Id, 3);
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/missing/returning.bin", Ct));
    }

    [Fact]
    public async Task A_live_node_that_answers_404_for_a_copy_is_fallen_over_and_the_copy_is_replaced()
    {
        var data = TestData.Random(120_000, 112);
        await cluster.Gateway.PutFileAsync("/missing/live-404.bin", new MemoryStream(data), ct: Ct);
        var chunk = (await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, "/missing/live-404.bin", 3, Soon, Ct)).Chunks.Single();
        // A read tries the copies in the order stat lists them (oldest first): the first one is the one made missing.
        var missing = chunk.Replicas[0];
        File.Delete(cluster.App.ChunkFilePath(missing.NodeName, chunk.Id));
        using (var nodeHttp = cluster.App.CreateClusterHttpClient())
            Assert.False(await new StorageNodeClient(cluster.App.CreateClusterHttpClient).HasChunkAsync(new Uri(missing.NodeUrl), chunk.Id, Ct));

        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/missing/live-404.bin", Ct));

        // The read reported the copy: its record goes, so the chunk is under-replicated and the Replicator makes a
        // new copy (on the spare node, or back onto the same one), and every listed copy is really there.
        await WaitForRealCopiesAsync("/missing/live-404.bin", chunk.Id, 3);
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/missing/live-404.bin", Ct));
    }

    /// <summary>Polls until stat lists at least <paramref name="copies"/> live copies and the chunk file of every listed copy exists.</summary>
    private async Task WaitForRealCopiesAsync(string path, string chunkId, int copies)
    {
        var deadline = DateTime.UtcNow + Soon;
        while (true)
        {
            var replicas = (await cluster.Gateway.StatAsync(path, Ct)).Chunks.Single().Replicas;
            var listed = replicas.Select(r => (r.NodeName, r.NodeState, OnDisk: File.Exists(cluster.App.ChunkFilePath(r.NodeName, chunkId)))).ToList();
            if (listed.Count(r => r.NodeState == NodeStates.Live && r.OnDisk) >= copies && listed.All(r => r.OnDisk)) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"{path}: copies listed {string.Join(", ", listed.Select(r => $"{r.NodeName}:{r.NodeState}:{(r.OnDisk ? "on disk" : "missing")}"))}");
            await Task.Delay(200, Ct);
        }
    }
}
