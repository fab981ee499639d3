using System.Net;
using System.Net.Http.Json;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>A cluster whose storage nodes are all full: uploads are 507, not 503, and nothing is committed.</summary>
public sealed class FullNodeTests : IDisposable
{
    private const int ChunkSize = 64 * 1024;
    private const int Capacity = 160 * 1024;
    // What each node holds before the test's uploads: a chunk no longer fits, a small file does.
    private const int Filled = 120 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _local = Directory.CreateTempSubdirectory("dfs-full-");

    public void Dispose() => _local.Delete(recursive: true);

    [Fact]
    public async Task A_gateway_whose_nodes_are_all_full_answers_507_and_commits_nothing()
    {
        var tiny = new Dictionary<string, string>
        {
            ["Dfs__StorageNode__CapacityBytes"] = Capacity.ToString(),
            ["Dfs__StorageNode__ReserveBytes"] = "0",
        };
        await using var app = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 2;
            o.ReplicationFactor = 1;
            o.ChunkSizeBytes = ChunkSize;
            // Slow heartbeats: the gateway first believes the nodes have room (they refuse the chunk), and only
            // a later heartbeat tells it that they do not (it then finds no node to try).
            o.HeartbeatIntervalMs = 3000;
            o.NodeDeadAfterMs = 30000;
            o.ResourceEnvironment["node-1"] = tiny;
            o.ResourceEnvironment["node-2"] = new(tiny);
        }, Ct);
        using var http = app.CreateGatewayClient();
        var gateway = DfsRefit.Gateway(http);
        using var member = app.CreateClusterHttpClient();
        var nodeClient = new StorageNodeClient(app.CreateClusterHttpClient);
        var nodes = app.RunningStorageNodes.Select(n => app.Endpoint(n)).ToList();
        Assert.Equal(2, nodes.Count);

        // Fill the nodes behind the gateway's back, as another writer of the cluster would.
        var fillers = new List<string>();
        for (var i = 0; i < nodes.Count; i++)
            foreach (var (size, seed) in new[] { (ChunkSize, 100 + 2 * i), (Filled - ChunkSize, 101 + 2 * i) })
            {
                var filler = TestData.Random(size, seed);
                fillers.Add(TestData.Sha256(filler));
                Assert.True(await nodeClient.PutChunkAsync(nodes[i], fillers[^1], filler, Ct));
            }

        // A file of one chunk that fits no node: 507 "Storage unavailable", whether the nodes refused the chunk or
        // the gateway already knew that none had room. (One chunk: of a longer file, a later chunk that fits may be
        // stored while the first is refused, and is then garbage for collection to sweep.)
        var big = TestData.Random(ChunkSize, 150);
        var refused = await PutAsync(http, "/full/big.bin", big);
        TestContext.Current.TestOutputHelper?.WriteLine($"first refusal: {refused.Detail}");
        if (refused.Detail!.StartsWith("Could not store", StringComparison.Ordinal))
        {
            var attempts = int.Parse(refused.Detail["Could not store a chunk after ".Length..].Split(' ')[0]);
            Assert.InRange(attempts, 1, 2);
            Assert.Equal(attempts, refused.Detail.Split(": Full: ").Length - 1);
        }
        else Assert.Equal(NoRoom, refused.Detail);
        await ExpectMissingAsync(gateway, "/full/big.bin");
        Assert.Equal(fillers.Order(StringComparer.Ordinal), await InventoryAsync(nodeClient, nodes));

        // The CLI: a failure with the gateway's reason (exit 1, like any 5xx), nothing stored.
        var local = Path.Combine(_local.FullName, "big.bin");
        await File.WriteAllBytesAsync(local, big, Ct);
        var cli = await DfsCli.RunAsync(_local.FullName, new Dictionary<string, string>
            {
                ["DFS_STATE_DIR"] = Path.Combine(_local.FullName, "no-state"),
                ["XDG_CONFIG_HOME"] = Path.Combine(_local.FullName, "config"),
                ["DFS_TOKEN"] = "",
                ["DFS_USER"] = AdminPassword.User,
                ["DFS_PASSWORD"] = DfsClusterOptions.AdminPassword,
            }, null, ["--gateway", app.GatewayUrl.ToString(), "put", local, "/full/big.bin"], Ct);
        Assert.True(cli.ExitCode == 1, cli.ToString());
        Assert.Contains("Nothing was committed. (507 InsufficientStorage)", cli.Stderr);
        // Full nodes stay full: the CLI says so at once instead of uploading the file again and again.
        Assert.DoesNotContain("retrying", cli.Stderr);
        Assert.Equal(["big.bin"], Directory.GetFiles(_local.FullName).Select(Path.GetFileName));
        await ExpectMissingAsync(gateway, "/full/big.bin");

        // Once the heartbeats report the nodes full, the gateway does not even try: still 507.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while ((await gateway.GetNodesAsync(Ct)).Any(n => n.FreeBytes >= ChunkSize))
        {
            Assert.True(DateTime.UtcNow < deadline, "the gateway never learnt that the nodes are full");
            await Task.Delay(200, Ct);
        }
        Assert.All(await gateway.GetNodesAsync(Ct), n => Assert.Equal(Capacity - Filled, n.FreeBytes));
        Assert.Equal(NoRoom, (await PutAsync(http, "/full/big.bin", big)).Detail);
        await ExpectMissingAsync(gateway, "/full/big.bin");
        Assert.Equal(fillers.Order(StringComparer.Ordinal), await InventoryAsync(nodeClient, nodes));

        // What fits is stored.
        var small = TestData.Random(10_000, 151);
        var put = await gateway.PutFileAsync("/full/small.bin", new MemoryStream(small), ct: Ct);
        Assert.Equal(1, put.ChunkCount);
        Assert.Equal(TestData.Sha256(small), await gateway.DownloadSha256Async("/full/small.bin", Ct));
        Assert.Equal(fillers.Append(TestData.Sha256(small)).Order(StringComparer.Ordinal), await InventoryAsync(nodeClient, nodes));
    }

    private const string NoRoom = "No live storage node has room for the chunk. Nothing was committed.";

    /// <summary>A PUT that must be refused with the 507 "Storage unavailable" problem; returns the problem.</summary>
    private static async Task<ApiProblem> PutAsync(HttpClient http, string path, byte[] data)
    {
        using var response = await http.PutAsync("/api/files" + path, new ByteArrayContent(data), Ct);
        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<ApiProblem>(Ct))!;
        Assert.Equal("Storage unavailable", problem.Title);
        Assert.Equal(507, problem.Status);
        Assert.EndsWith(" Nothing was committed.", problem.Detail);
        return problem;
    }

    private static async Task ExpectMissingAsync(IGatewayApi gateway, string path)
    {
        var missing = await Assert.ThrowsAsync<DfsApiException>(() => gateway.StatAsync(path, Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    /// <summary>Every chunk id the nodes hold, sorted.</summary>
    internal static async Task<List<string>> InventoryAsync(StorageNodeClient nodeClient, IEnumerable<Uri> nodes)
    {
        var ids = new List<string>();
        foreach (var node in nodes)
        {
            string? after = null;
            do
            {
                var page = await nodeClient.ListChunksAsync(node, after, 1000, Ct);
                ids.AddRange(page.Chunks.Select(c => c.Id));
                after = page.NextAfter;
            } while (after is not null);
        }
        ids.Sort(StringComparer.Ordinal);
        return ids;
    }
}
