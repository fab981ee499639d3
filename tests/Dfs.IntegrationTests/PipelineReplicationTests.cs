using System.Net;
using Dfs.AppHost.Cluster;
using Dfs.AppHost.Servers;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>
/// durability=all: the PUT answers only when each chunk has the replication factor's fsynced copies, made by the nodes
/// forwarding the bytes down a chain while they store them (no Replicator involved), and never claims fewer.
/// </summary>
[Collection(ReplicationCollection.Name)]
public sealed class PipelineReplicationTests(ReplicationFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly PutFileOptions AllThree = new(ConflictPolicy.Overwrite, ReplicationFactor: 3, Durability: Durability.All);

    [Fact]
    public async Task A_durable_put_answers_with_every_copy_on_disk_even_with_the_replicator_stopped()
    {
        var data = TestData.Random(5 * ReplicationFixture.ChunkSize + 123, 91);
        var small = TestData.Random(2000, 92);
        await cluster.App.StopResourceAsync(DfsCluster.ReplicatorName, Ct);
        try
        {
            var put = await cluster.Gateway.PutFileAsync("/pipeline/all.bin", new MemoryStream(data), AllThree, Ct);
            Assert.Equal(TestData.Sha256(data), put.Sha256);
            var stat = await cluster.Gateway.StatAsync("/pipeline/all.bin", Ct);
            Assert.Equal(6, stat.Chunks.Count);
            await AssertCopiesOnDiskAsync(stat, 3);

            // The default answers after one copy: with the Replicator away, one is all there is.
            await cluster.Gateway.PutFileAsync("/pipeline/one.bin", new MemoryStream(small), new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: 3), Ct);
            Assert.Single((await cluster.Gateway.StatAsync("/pipeline/one.bin", Ct)).Chunks.Single().Replicas);
        }
        finally
        {
            await cluster.App.StartResourceAsync(DfsCluster.ReplicatorName, Ct);
        }
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/pipeline/all.bin", Ct));
    }

    [Fact]
    public async Task A_durable_put_that_cannot_make_every_copy_fails_and_keeps_the_old_version()
    {
        var old = TestData.Random(1000, 93);
        await cluster.Gateway.PutFileAsync("/pipeline/keep.bin", new MemoryStream(old), AllThree, Ct);

        // Five copies on four nodes can never be made: refused after four, and nothing is committed.
        var refused = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.PutFileAsync("/pipeline/keep.bin",
            new MemoryStream(TestData.Random(3 * ReplicationFixture.ChunkSize, 94)), AllThree with { ReplicationFactor = 5 }, Ct));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Contains("Only 4 of 5 durable copies", refused.Problem?.Detail);
        var kept = await cluster.Gateway.StatAsync("/pipeline/keep.bin", Ct);
        Assert.Equal(1, kept.Version);
        Assert.Equal(TestData.Sha256(old), await cluster.Gateway.DownloadSha256Async("/pipeline/keep.bin", Ct));

        // A durability the gateway does not know is refused before a byte is stored.
        using var http = cluster.App.CreateGatewayClient();
        using var bad = await http.PutAsync("/api/files/pipeline/keep.bin?conflict=overwrite&durability=most", new ByteArrayContent(old), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("durability must be one", await bad.Content.ReadAsStringAsync(Ct));
        Assert.Equal(1, (await cluster.Gateway.StatAsync("/pipeline/keep.bin", Ct)).Version);
    }

    [Fact]
    public async Task A_node_killed_mid_pipeline_is_replaced_and_every_acknowledged_copy_is_durable()
    {
        var data = TestData.Random(40 * ReplicationFixture.ChunkSize + 7, 95);
        var victim = cluster.App.RunningStorageNodes[Random.Shared.Next(cluster.App.RunningStorageNodes.Count)];
        var body = new GatedStream(data, pauseAt: 10 * ReplicationFixture.ChunkSize);
        // Without the Replicator, every copy the stat shows was made by the PUT itself.
        await cluster.App.StopResourceAsync(DfsCluster.ReplicatorName, Ct);
        var upload = cluster.Gateway.PutFileAsync("/pipeline/killed.bin", body, AllThree, Ct);
        try
        {
            await body.Reached.WaitAsync(TimeSpan.FromSeconds(60), Ct);
            // Hung first, so chains through it stall with bytes on the wire; then killed while they wait on it.
            var pid = cluster.App.ProcessId(victim) ?? throw new InvalidOperationException($"{victim} has no process");
            Assert.True(ProcessTable.Signal(pid, ProcessTable.SigStop));
            body.Resume();
            await Task.Delay(1000, Ct);
            await cluster.App.KillResourceAsync(victim, Ct);

            var put = await upload;
            Assert.Equal(TestData.Sha256(data), put.Sha256);
            var stat = await cluster.Gateway.StatAsync("/pipeline/killed.bin", Ct);
            Assert.Equal(41, stat.Chunks.Count);
            Assert.Contains(stat.Chunks, c => c.Replicas.All(r => r.NodeName != victim));
            await AssertCopiesOnDiskAsync(stat, 3, down: victim);
        }
        finally
        {
            body.Resume();
            await cluster.App.StartResourceAsync(DfsCluster.ReplicatorName, Ct);
            if (cluster.App.State(victim) != Aspire.Hosting.ApplicationModel.KnownResourceStates.Running)
                await cluster.App.StartResourceAsync(victim, Ct);
            await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
        }
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/pipeline/killed.bin", Ct));
    }

    /// <summary>
    /// Each chunk has <paramref name="copies"/> holders on distinct nodes, and each holder has the right bytes: asked of the
    /// node, or read from the data folder of the node that is <paramref name="down"/>.
    /// </summary>
    private async Task AssertCopiesOnDiskAsync(EntryDetails stat, int copies, string? down = null)
    {
        var nodes = new StorageNodeClient(cluster.App.CreateClusterHttpClient);
        foreach (var chunk in stat.Chunks)
        {
            Assert.Equal(copies, chunk.Replicas.Select(r => r.NodeId).Distinct().Count());
            foreach (var replica in chunk.Replicas)
            {
                var buffer = new byte[chunk.Size];
                if (replica.NodeName == down)
                {
                    var file = cluster.App.ChunkFilePath(down, chunk.Id);
                    Assert.True(File.Exists(file), $"{down} acknowledged chunk {chunk.Index} but has no {file}");
                    buffer = await File.ReadAllBytesAsync(file, Ct);
                }
                else
                {
                    Assert.Equal((int)chunk.Size, await nodes.ReadChunkAsync(new Uri(replica.NodeUrl), chunk.Id, buffer, Ct));
                }
                Assert.Equal(chunk.Id, TestData.Sha256(buffer));
            }
        }
    }

    /// <summary>A body that stops at a byte offset until the test lets it go on, so a fault lands in the middle of an upload.</summary>
    private sealed class GatedStream(byte[] data, long pauseAt) : MemoryStream(data, writable: false)
    {
        private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _resume = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Reached => _reached.Task;

        public void Resume() => _resume.TrySetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (Position >= pauseAt)
            {
                _reached.TrySetResult();
                await _resume.Task.WaitAsync(cancellationToken);
            }
            else if (Position + buffer.Length > pauseAt)
            {
                buffer = buffer[..(int)(pauseAt - Position)];
            }
            return await base.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }
}
