using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;

namespace Dfs.IntegrationTests;

/// <summary>Garbage collection on a real cluster: what an abandoned upload left on the nodes is swept, committed data is kept.</summary>
public sealed class GarbageCollectionTests(GarbageCollectionTests.GcCluster cluster) : IClassFixture<GarbageCollectionTests.GcCluster>
{
    private const int ChunkSize = 256 * 1024;
    private const int GcGraceMs = 4000;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>One cluster for both tests (embedded profile, a short grace period, frequent passes): each checks only its own chunks.</summary>
    public sealed class GcCluster : IAsyncLifetime
    {
        public DfsTestCluster App { get; private set; } = null!;

        public async ValueTask InitializeAsync() => App = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 2;
            o.ReplicationFactor = 1;
            o.ChunkSizeBytes = ChunkSize;
            o.HeartbeatIntervalMs = 300;
            o.GcGraceMs = GcGraceMs;
            o.GcIntervalMs = 300;
        }, TestContext.Current.CancellationToken);

        public async ValueTask DisposeAsync()
        {
            if (App is not null) await App.DisposeAsync();
        }
    }

    private DfsTestCluster App => cluster.App;

    [Fact]
    public async Task Chunks_of_an_abandoned_upload_are_swept_from_every_node_after_the_grace_period_and_committed_chunks_stay()
    {
        using var http = App.CreateGatewayClient();
        var gateway = DfsRefit.Gateway(http);
        using var member = App.CreateClusterHttpClient();
        var nodeClient = new StorageNodeClient(App.CreateClusterHttpClient);
        var nodes = App.RunningStorageNodes.Select(n => App.Endpoint(n)).ToList();
        Assert.Equal(2, nodes.Count);

        // A committed file of three chunks.
        var kept = TestData.Random(3 * ChunkSize, 201);
        await gateway.PutFileAsync("/gc/kept.bin", new MemoryStream(kept), ct: Ct);
        var keptIds = (await gateway.StatAsync("/gc/kept.bin", Ct)).Chunks.Select(c => c.Id).ToList();
        Assert.Equal(Enumerable.Range(0, 3).Select(i => ChunkIds.Compute(kept.AsSpan(i * ChunkSize, ChunkSize))), keptIds);

        // An upload that sends four full chunks (the first the same bytes as the committed file's first chunk),
        // then a few bytes, and vanishes: chunk ids are the SHA-256 of each chunk's bytes.
        var fresh = TestData.Random(3 * ChunkSize, 202);
        var sent = kept.AsSpan(0, ChunkSize).ToArray().Concat(fresh).Concat(new byte[17]).ToArray();
        var abandonedIds = Enumerable.Range(0, 3).Select(i => ChunkIds.Compute(fresh.AsSpan(i * ChunkSize, ChunkSize))).ToList();
        var endpoint = App.GatewayUrl;
        using (var socket = new TcpClient())
        {
            await socket.ConnectAsync(endpoint.Host, endpoint.Port, Ct);
            var stream = socket.GetStream();
            var header = $"PUT /api/files/gc/abandoned.bin HTTP/1.1\r\nHost: {endpoint.Authority}\r\nAuthorization: {DfsTestCluster.AdminAuthorization}\r\n" +
                $"Content-Length: {10 * ChunkSize}\r\nContent-Type: application/octet-stream\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header), Ct);
            await stream.WriteAsync(sent, Ct);
            await stream.FlushAsync(Ct);

            // While the upload is still open, its chunks reach the nodes (the upload holds them, so no sweep yet).
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!abandonedIds.All((await FullNodeTests.InventoryAsync(nodeClient, nodes)).Contains))
            {
                Assert.True(DateTime.UtcNow < deadline, "the abandoned upload's chunks never reached a node");
                await Task.Delay(100, Ct);
            }
        }
        var closedAt = Stopwatch.GetTimestamp();

        // Nothing was committed, and right after the client left, the chunks are still there (grace period).
        var missing = await Assert.ThrowsAsync<DfsApiException>(() => gateway.StatAsync("/gc/abandoned.bin", Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Subset((await FullNodeTests.InventoryAsync(nodeClient, nodes)).ToHashSet(), abandonedIds.ToHashSet());

        // After the grace period the sweep deletes them from every node.
        var sweptBy = DateTime.UtcNow + TimeSpan.FromMilliseconds(GcGraceMs) + TimeSpan.FromSeconds(30);
        List<string> inventory;
        while ((inventory = await FullNodeTests.InventoryAsync(nodeClient, nodes)).Intersect(abandonedIds).Any())
        {
            Assert.True(DateTime.UtcNow < sweptBy, $"still on the nodes: {string.Join(", ", inventory.Intersect(abandonedIds))}");
            await Task.Delay(200, Ct);
        }
        Assert.True(Stopwatch.GetElapsedTime(closedAt) >= TimeSpan.FromMilliseconds(GcGraceMs),
            $"swept {Stopwatch.GetElapsedTime(closedAt)} after the client left, before the {GcGraceMs} ms grace period");

        // The committed file's chunks stay, including the one the abandoned upload stored again, and it reads back whole.
        Assert.Subset(inventory.ToHashSet(), keptIds.ToHashSet());
        foreach (var node in nodes)
            foreach (var id in abandonedIds)
                Assert.False(await nodeClient.HasChunkAsync(node, id, Ct), $"{id} on {node}");
        Assert.Equal(TestData.Sha256(kept), await gateway.DownloadSha256Async("/gc/kept.bin", Ct));

        // Several more passes later, still nothing of the committed file is collected.
        await Task.Delay(1000, Ct);
        Assert.Subset((await FullNodeTests.InventoryAsync(nodeClient, nodes)).ToHashSet(), keptIds.ToHashSet());
    }

    [Fact]
    public async Task Parts_of_an_S3_multipart_upload_outlive_the_grace_period_until_it_is_completed_and_go_once_it_is_aborted()
    {
        using var http = App.CreateGatewayClient();
        var gateway = DfsRefit.Gateway(http);
        var nodeClient = new StorageNodeClient(App.CreateClusterHttpClient);
        var nodes = App.RunningStorageNodes.Select(n => App.Endpoint(n)).ToList();
        var key = await gateway.CreateAccessKeyAsync(new Contracts.Api.CreateAccessKeyRequest("gc"), Ct);
        using var s3 = new Amazon.S3.AmazonS3Client(new Amazon.Runtime.BasicAWSCredentials(key.Id, key.Secret), new Amazon.S3.AmazonS3Config
        {
            ServiceURL = App.Endpoint(Dfs.AppHost.Cluster.DfsCluster.GatewayName, "s3").ToString(), ForcePathStyle = true, MaxErrorRetry = 0,
        });
        await s3.PutBucketAsync("gc-parts", Ct);

        async Task<(string UploadId, string ETag, List<string> ChunkIds)> UploadOnePartAsync(string objectKey, byte[] part)
        {
            var upload = await s3.InitiateMultipartUploadAsync(new Amazon.S3.Model.InitiateMultipartUploadRequest { BucketName = "gc-parts", Key = objectKey }, Ct);
            var etag = (await s3.UploadPartAsync(new Amazon.S3.Model.UploadPartRequest
            {
                BucketName = "gc-parts", Key = objectKey, UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(part),
            }, Ct)).ETag;
            var ids = Enumerable.Range(0, part.Length / ChunkSize).Select(i => ChunkIds.Compute(part.AsSpan(i * ChunkSize, ChunkSize))).ToList();
            return (upload.UploadId, etag, ids);
        }
        var kept = TestData.Random(4 * ChunkSize, 203);
        var abandoned = TestData.Random(4 * ChunkSize, 204);
        var (keptUpload, keptETag, keptIds) = await UploadOnePartAsync("kept.bin", kept);
        var (abandonedUpload, _, abandonedIds) = await UploadOnePartAsync("abandoned.bin", abandoned);
        await s3.AbortMultipartUploadAsync("gc-parts", "abandoned.bin", abandonedUpload, Ct);

        // Past the grace period: the aborted upload's chunks are gone from every node, the open upload's are all there.
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var inventory = (await FullNodeTests.InventoryAsync(nodeClient, nodes)).ToHashSet();
            if (!abandonedIds.Any(inventory.Contains) && deadline.Elapsed > TimeSpan.FromMilliseconds(2 * GcGraceMs))
            {
                Assert.Subset(inventory, keptIds.ToHashSet());
                break;
            }
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), "the aborted upload's chunks were not collected");
            await Task.Delay(300, Ct);
        }

        await s3.CompleteMultipartUploadAsync(new Amazon.S3.Model.CompleteMultipartUploadRequest
        {
            BucketName = "gc-parts", Key = "kept.bin", UploadId = keptUpload, PartETags = [new Amazon.S3.Model.PartETag(1, keptETag)],
        }, Ct);
        Assert.Equal(TestData.Sha256(kept), await gateway.DownloadSha256Async("/gc-parts/kept.bin", Ct));
    }
}
