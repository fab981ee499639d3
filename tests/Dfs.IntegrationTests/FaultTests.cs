using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.IntegrationTests;

/// <summary>Failures injected into the real cluster: dead nodes, corrupt copies, clients that vanish.</summary>
[Collection(FaultCollection.Name)]
public sealed class FaultTests(FaultClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_corrupted_chunk_is_detected_and_never_served()
    {
        var data = TestData.Random(300_000, 11);
        await cluster.Gateway.PutFileAsync("/faults/corrupt-one.bin", new MemoryStream(data), ct: Ct);
        var chunk = (await cluster.Gateway.StatAsync("/faults/corrupt-one.bin", Ct)).Chunks.Single();
        var file = cluster.ChunkFile(chunk.Replicas.Single().NodeName, chunk.Id);
        var original = await File.ReadAllBytesAsync(file, Ct);
        try
        {
            FlipByte(file, 1000);
            using var response = await cluster.Http.GetAsync("/api/files/faults/corrupt-one.bin", Ct);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
            Assert.Contains("SHA-256", problem!.Detail);
        }
        finally
        {
            await File.WriteAllBytesAsync(file, original, Ct);
        }
    }

    [Fact]
    public async Task A_corrupted_later_chunk_cuts_the_transfer_instead_of_returning_wrong_bytes()
    {
        var data = TestData.Random(3 * ClusterFixture.ChunkSize, 12);
        await cluster.Gateway.PutFileAsync("/faults/corrupt-later.bin", new MemoryStream(data), ct: Ct);
        var chunk = (await cluster.Gateway.StatAsync("/faults/corrupt-later.bin", Ct)).Chunks[2];
        var file = cluster.ChunkFile(chunk.Replicas.Single().NodeName, chunk.Id);
        var original = await File.ReadAllBytesAsync(file, Ct);
        try
        {
            FlipByte(file, 10);
            var copy = new MemoryStream();
            await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                await using var download = await cluster.Gateway.GetFileAsync("/faults/corrupt-later.bin", ct: Ct);
                await download.Content.CopyToAsync(copy, Ct);
            });
            // Whatever arrived before the cut is a correct prefix, never corrupted bytes.
            Assert.True(copy.Length < data.Length);
            Assert.Equal(data.AsSpan(0, (int)copy.Length).ToArray(), copy.ToArray());
        }
        finally
        {
            await File.WriteAllBytesAsync(file, original, Ct);
        }
    }

    [Fact]
    public async Task Reads_fall_over_to_another_copy_when_a_copy_is_bad_or_its_node_is_down()
    {
        var data = TestData.Random(2 * ClusterFixture.ChunkSize + 5, 13);
        await cluster.Gateway.PutFileAsync("/faults/failover.bin", new MemoryStream(data), ct: Ct);
        var stat = await cluster.Gateway.StatAsync("/faults/failover.bin", Ct);
        var nodes = await cluster.Gateway.GetNodesAsync(Ct);
        // Straight to the nodes, as the Replicator does: only signed requests are served there.
        using var nodeHttp = cluster.App.CreateClusterHttpClient();
        var nodeClient = new StorageNodeClient(cluster.App.CreateClusterHttpClient);

        // Give every chunk a second copy on another node, as the Replicator does: copy node to node, then report it.
        foreach (var chunk in stat.Chunks)
        {
            var holder = nodes.Single(n => n.Id == chunk.Replicas[0].NodeId);
            var other = nodes.First(n => n.Id != holder.Id && n.State == NodeStates.Live && n.Name.StartsWith("node-"));
            await using (var source = await nodeClient.OpenChunkAsync(new Uri(holder.Url + "/"), chunk.Id, ct: Ct))
                await nodeClient.PutChunkAsync(new Uri(other.Url + "/"), chunk.Id, source, chunk.Size, Ct);
            // The gateway's internal API serves only the cluster's signed requests, as the Replicator sends them.
            using var reported = await nodeHttp.PostAsJsonAsync(new Uri(cluster.App.GatewayUrl, "/internal/replicas"), new ReplicaReport(chunk.Id, other.Id), DfsJson.Options, Ct);
            reported.EnsureSuccessStatusCode();
        }
        stat = await cluster.Gateway.StatAsync("/faults/failover.bin", Ct);
        Assert.All(stat.Chunks, c => Assert.Equal(2, c.Replicas.Count));

        // A bad first copy: the read verifies, discards it and uses the other copy.
        var first = stat.Chunks[0];
        var badFile = cluster.ChunkFile(first.Replicas[0].NodeName, first.Id);
        var original = await File.ReadAllBytesAsync(badFile, Ct);
        FlipByte(badFile, 0);
        try
        {
            Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/faults/failover.bin", Ct));
        }
        finally
        {
            await File.WriteAllBytesAsync(badFile, original, Ct);
        }

        // A node that is down: its copies are skipped. The bad copy above was dropped from the metadata, so the
        // victim must not be the one node left holding a chunk.
        stat = await cluster.Gateway.StatAsync("/faults/failover.bin", Ct);
        var victim = stat.Chunks.SelectMany(c => c.Replicas).Select(r => r.NodeName).Distinct()
            .First(n => stat.Chunks.All(c => c.Replicas.Any(r => r.NodeName != n)));
        await cluster.App.KillResourceAsync(victim, Ct);
        try
        {
            Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/faults/failover.bin", Ct));
        }
        finally
        {
            await cluster.App.StartResourceAsync(victim, Ct);
            await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
        }
    }

    [Fact]
    public async Task A_store_refused_by_a_dead_node_is_retried_on_another()
    {
        // Right after a kill the gateway still thinks the node is live, so placement picks it and the store is refused.
        await cluster.App.KillResourceAsync("node-3", Ct);
        try
        {
            var chunkSizedData = TestData.Random(12 * ClusterFixture.ChunkSize, 15);
            var put = await cluster.Gateway.PutFileAsync("/faults/retried.bin", new MemoryStream(chunkSizedData), ct: Ct);
            var stat = await cluster.Gateway.StatAsync("/faults/retried.bin", Ct);
            Assert.All(stat.Chunks, c => Assert.DoesNotContain(c.Replicas, r => r.NodeName == "node-3"));
            Assert.Equal(TestData.Sha256(chunkSizedData), await cluster.Gateway.DownloadSha256Async("/faults/retried.bin", Ct));
            Assert.Equal(12, put.ChunkCount);
        }
        finally
        {
            await cluster.App.StartResourceAsync("node-3", Ct);
            await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
        }
    }

    [Fact]
    public async Task A_client_that_disconnects_mid_upload_commits_nothing()
    {
        var gateway = cluster.App.GatewayUrl;
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(gateway.Host, gateway.Port, Ct);
            var stream = socket.GetStream();
            // Authenticated, so the gateway really starts storing the body before the client goes away.
            var header = $"PUT /api/files/faults/half.bin HTTP/1.1\r\nHost: {gateway.Authority}\r\nAuthorization: {DfsTestCluster.AdminAuthorization}\r\n" +
                $"Content-Length: {10 * ClusterFixture.ChunkSize}\r\nContent-Type: application/octet-stream\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header), Ct);
            await stream.WriteAsync(TestData.Random(3 * ClusterFixture.ChunkSize + 17, 16), Ct);
            await stream.FlushAsync(Ct);
        }

        // Give the gateway time to notice; the name must never appear.
        for (var i = 0; i < 10; i++)
        {
            var missing = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.StatAsync("/faults/half.bin", Ct));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            await Task.Delay(100, Ct);
        }
        // The gateway is fine afterwards.
        var after = await cluster.Gateway.PutFileAsync("/faults/half.bin", new MemoryStream([1, 2, 3]), ct: Ct);
        Assert.Equal(1, after.Version);
    }

    [Fact]
    public async Task A_bad_client_digest_is_refused_and_nothing_is_committed()
    {
        var data = TestData.Random(2 * ClusterFixture.ChunkSize, 17);
        var wrongMd5 = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.PutFileAsync("/faults/digest.bin",
            new MemoryStream(data), new PutFileOptions(Md5Hex: TestData.Md5("other"u8)), Ct));
        Assert.Equal(HttpStatusCode.BadRequest, wrongMd5.StatusCode);
        var wrongSha = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.PutFileAsync("/faults/digest.bin",
            new MemoryStream(data), new PutFileOptions(Sha256Hex: TestData.Sha256("other"u8)), Ct));
        Assert.Equal(HttpStatusCode.BadRequest, wrongSha.StatusCode);
        Assert.Contains("Digest mismatch", wrongSha.Problem?.Title);
        var missing = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.StatAsync("/faults/digest.bin", Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);

        // An existing file is not touched by a refused overwrite.
        await cluster.Gateway.PutFileAsync("/faults/keep.bin", new MemoryStream("keep"u8.ToArray()), ct: Ct);
        await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.PutFileAsync("/faults/keep.bin",
            new MemoryStream(data), new PutFileOptions(ConflictPolicy.Overwrite, Sha256Hex: TestData.Sha256("x"u8)), Ct));
        await using var kept = await cluster.Gateway.GetFileAsync("/faults/keep.bin", ct: Ct);
        Assert.Equal("keep", await new StreamReader(kept.Content).ReadToEndAsync(Ct));
        Assert.Equal(1, kept.Version);
    }

    internal static void FlipByte(string file, long offset)
    {
        using var stream = new FileStream(file, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = offset;
        var b = stream.ReadByte();
        stream.Position = offset;
        stream.WriteByte((byte)(b ^ 0xFF));
    }
}
