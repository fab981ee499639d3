using System.Net;
using System.Net.Http.Headers;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Npgsql;

namespace Dfs.IntegrationTests;

/// <summary>A real cluster (PostgreSQL, RabbitMQ, Redis, two nodes, replication factor 2) that keeps files of up to 4 KiB inline.</summary>
public sealed class InlineClusterFixture : ClusterFixture
{
    public const int InlineMaxBytes = 4096;
    public const int GcGraceMs = 1000;

    protected override void Configure(DfsClusterOptions options)
    {
        options.Nodes = 2;
        options.ReplicationFactor = 2;
        options.GcGraceMs = GcGraceMs;
        options.GcIntervalMs = 300;
        options.ResourceEnvironment["gateway"] = new()
        {
            ["Dfs__Gateway__InlineMaxBytes"] = InlineMaxBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // No small-chunk cache: every read takes the inline bytes from the metadata store (and checks them).
            ["Dfs__Gateway__Cache__SmallChunkBytes"] = "0",
        };
    }

    public async Task<NpgsqlConnection> OpenMetadataAsync(CancellationToken ct)
    {
        var connection = new NpgsqlConnection(await App.GetConnectionStringAsync(DfsCluster.MetadataName, ct));
        await connection.OpenAsync(ct);
        return connection;
    }

    /// <summary>The inline bytes the metadata store holds for a chunk, or null.</summary>
    public async Task<byte[]?> InlineBytesAsync(string chunkId, CancellationToken ct)
    {
        await using var db = await OpenMetadataAsync(ct);
        await using var query = new NpgsqlCommand("""SELECT "Data" FROM inline_chunks WHERE "ChunkId" = $1""", db) { Parameters = { new() { Value = chunkId } } };
        return await query.ExecuteScalarAsync(ct) as byte[];
    }

    public async Task<List<string>> NodeInventoryAsync() =>
        await FullNodeTests.InventoryAsync(new StorageNodeClient(App.CreateClusterHttpClient), App.RunningStorageNodes.Select(n => App.Endpoint(n)));
}

/// <summary>
/// Small files inline (Dfs:Gateway:InlineMaxBytes): a file that fits is committed with its version in one transaction and
/// served from there, no node holds or is asked for it, its bytes are still checked against the chunk id, and deleting or
/// overwriting it frees the row; larger files and durability=all uploads still go to the nodes.
/// </summary>
public sealed class InlineFileTests(InlineClusterFixture cluster) : IClassFixture<InlineClusterFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_small_file_lives_in_the_metadata_store_and_comes_back_byte_for_byte_without_a_node()
    {
        var data = TestData.Random(3000, 901);
        var id = ChunkIds.Compute(data);
        var put = await cluster.Gateway.PutFileAsync("/inline/small.bin", new MemoryStream(data), new PutFileOptions(Md5Hex: TestData.Md5(data)), Ct);
        Assert.Equal(TestData.Sha256(data), put.Sha256);

        var stat = await cluster.Gateway.StatAsync("/inline/small.bin", Ct);
        var chunk = Assert.Single(stat.Chunks);
        Assert.True(chunk.Inline);
        Assert.Equal(id, chunk.Id);
        Assert.Empty(chunk.Replicas);
        Assert.Equal(data, await cluster.InlineBytesAsync(id, Ct));
        Assert.DoesNotContain(id, await cluster.NodeInventoryAsync());

        await using (var download = await cluster.Gateway.GetFileAsync("/inline/small.bin", ct: Ct))
        {
            using var copy = new MemoryStream();
            await download.Content.CopyToAsync(copy, Ct);
            Assert.Equal(data, copy.ToArray());
            Assert.Equal(TestData.Sha256(data), download.Sha256Hex);
        }
        await using (var range = await cluster.Gateway.GetFileAsync("/inline/small.bin", new ByteRange(1000, 1099), Ct))
        {
            using var copy = new MemoryStream();
            await range.Content.CopyToAsync(copy, Ct);
            Assert.Equal(data.AsSpan(1000, 100).ToArray(), copy.ToArray());
        }

        // Direct reads: the layout carries the bytes instead of node URLs, and dfs get checks and saves them.
        var layout = await cluster.Gateway.GetLayoutAsync("/inline/small.bin", Ct);
        var source = Assert.Single(layout.Chunks);
        Assert.Empty(source.Urls);
        Assert.Equal(data, source.Data);
        var folder = Directory.CreateTempSubdirectory("dfs-inline-");
        try
        {
            var saved = Path.Combine(folder.FullName, "small.bin");
            var get = await DfsCli.RunAsync(folder.FullName, new Dictionary<string, string>
            {
                ["DFS_STATE_DIR"] = folder.FullName + "/no-state",
                ["DFS_USER"] = AdminPassword.User,
                ["DFS_PASSWORD"] = DfsClusterOptions.AdminPassword,
            }, null, ["--gateway", cluster.App.GatewayUrl.ToString(), "get", "/inline/small.bin", saved], Ct);
            Assert.True(get.ExitCode == 0, get.ToString());
            Assert.Equal(data, await File.ReadAllBytesAsync(saved, Ct));
        }
        finally
        {
            folder.Delete(recursive: true);
        }

        // Nothing for the Replicator: an inline chunk is not under-replicated although no node holds it.
        Assert.Equal(0, (await cluster.Gateway.GetReplicationAsync(Ct)).UnderReplicatedChunks);
    }

    [Fact]
    public async Task Files_above_the_limit_and_durable_uploads_go_to_the_nodes()
    {
        var large = TestData.Random(InlineClusterFixture.InlineMaxBytes + 1, 902);
        await cluster.Gateway.PutFileAsync("/inline/large.bin", new MemoryStream(large), ct: Ct);
        var largeChunk = Assert.Single((await cluster.Gateway.StatAsync("/inline/large.bin", Ct)).Chunks);
        Assert.False(largeChunk.Inline);
        Assert.NotEmpty(largeChunk.Replicas);
        Assert.Null(await cluster.InlineBytesAsync(largeChunk.Id, Ct));

        // durability=all asks for copies on the nodes before the answer: a small file too.
        var small = TestData.Random(100, 903);
        await cluster.Gateway.PutFileAsync("/inline/durable.bin", new MemoryStream(small),
            new PutFileOptions(ReplicationFactor: 2, Durability: Durability.All), Ct);
        var durable = Assert.Single((await cluster.Gateway.StatAsync("/inline/durable.bin", Ct)).Chunks);
        Assert.False(durable.Inline);
        Assert.Equal(2, durable.Replicas.Count);
        Assert.Null(await cluster.InlineBytesAsync(durable.Id, Ct));
    }

    [Fact]
    public async Task Corrupt_inline_bytes_are_refused_never_served()
    {
        var data = TestData.Random(2048, 904);
        var id = ChunkIds.Compute(data);
        await cluster.Gateway.PutFileAsync("/inline/rot.bin", new MemoryStream(data), ct: Ct);
        var rotten = data.ToArray();
        rotten[700] ^= 0x40;
        await using (var db = await cluster.OpenMetadataAsync(Ct))
        await using (var update = new NpgsqlCommand("""UPDATE inline_chunks SET "Data" = $1 WHERE "ChunkId" = $2""", db)
                     { Parameters = { new() { Value = rotten }, new() { Value = id } } })
            Assert.Equal(1, await update.ExecuteNonQueryAsync(Ct));

        // The gateway checks them before a byte goes out, whole or in part: no node holds another copy, so the read fails.
        foreach (var range in new RangeHeaderValue?[] { null, new(0, 99) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "api/files/inline/rot.bin");
            request.Headers.Range = range;
            using var response = await cluster.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            Assert.Contains("metadata store: bytes do not match", await response.Content.ReadAsStringAsync(Ct));
        }

        // The direct reader gets the bytes from the layout and must refuse them itself.
        var layout = await cluster.Gateway.GetLayoutAsync("/inline/rot.bin", Ct);
        Assert.False(ChunkIds.Matches(Assert.Single(layout.Chunks).Data, id));
    }

    [Fact]
    public async Task Overwriting_or_deleting_an_inline_file_frees_its_row_after_the_grace_period()
    {
        var first = TestData.Random(1000, 905);
        var second = TestData.Random(1200, 906);
        var third = TestData.Random(900, 907);
        await cluster.Gateway.PutFileAsync("/inline/gc-over.bin", new MemoryStream(first), ct: Ct);
        await cluster.Gateway.PutFileAsync("/inline/gc-over.bin", new MemoryStream(second), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
        await cluster.Gateway.PutFileAsync("/inline/gc-rm.bin", new MemoryStream(third), ct: Ct);
        await cluster.Gateway.DeleteAsync("/inline/gc-rm.bin", recursive: false, Ct);

        var deadline = DateTime.UtcNow + TimeSpan.FromMilliseconds(InlineClusterFixture.GcGraceMs) + TimeSpan.FromSeconds(30);
        while (await cluster.InlineBytesAsync(ChunkIds.Compute(first), Ct) is not null || await cluster.InlineBytesAsync(ChunkIds.Compute(third), Ct) is not null)
        {
            Assert.True(DateTime.UtcNow < deadline, "an overwritten or deleted inline file's row was never collected");
            await Task.Delay(200, Ct);
        }
        // The current version is kept, and still reads.
        Assert.Equal(second, await cluster.InlineBytesAsync(ChunkIds.Compute(second), Ct));
        await using var download = await cluster.Gateway.GetFileAsync("/inline/gc-over.bin", ct: Ct);
        using var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy, Ct);
        Assert.Equal(second, copy.ToArray());
    }
}
