using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Api;

namespace Dfs.Gateway.Tests.Nodes;

/// <summary>
/// The gateway's chunk store against scripted nodes on loopback ports: which failures move on to another node,
/// which end the PUT at once, and that the attempt limit holds and a failed PUT commits nothing.
/// </summary>
public sealed class StoreRetryTests
{
    private const string Retries = "dfs.gateway.chunk_store.retries";
    // Placement weighs by free space: a faulty node with a tebibyte free is tried before the good node with a
    // mebibyte free in all but about one draw in a million, so the retry is what the test sees.
    private const long Plenty = 1L << 40;
    private const long Little = 1L << 20;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(FakeBehaviour.ServerError, "ServerError")]
    [InlineData(FakeBehaviour.Hang, "Timeout")]
    [InlineData(FakeBehaviour.Full, "Full")]
    // A 422 says the bytes arrived damaged at that node; they are intact in the gateway's buffer, so another node may take them.
    [InlineData(FakeBehaviour.IntegrityRejected, "IntegrityRejected")]
    public async Task A_node_that_fails_is_retried_on_another_node(FakeBehaviour fault, string kind)
    {
        await using var gateway = StartGateway();
        using var instruments = new GatewayInstruments(gateway);
        await using var faulty = await FakeNode.StartAsync("faulty", fault, Ct);
        await using var good = await FakeNode.StartAsync("good", FakeBehaviour.Store, Ct);
        await faulty.RegisterAsync(gateway, Plenty, Ct);
        await good.RegisterAsync(gateway, Little, Ct);

        var chunk = await PutAndCheckStoredOnAsync(gateway, good);
        Assert.Equal(1, faulty.Attempts);
        Assert.DoesNotContain(chunk, faulty.Chunks.Keys);
        Assert.Equal(new Dictionary<string, long> { [kind] = 1 }, instruments.CountsByKind(Retries));
    }

    [Fact]
    public async Task A_node_refusing_connections_is_retried_on_another_node()
    {
        await using var gateway = StartGateway();
        using var instruments = new GatewayInstruments(gateway);
        await using var refusing = FakeNode.Refusing("refusing");
        await using var good = await FakeNode.StartAsync("good", FakeBehaviour.Store, Ct);
        await refusing.RegisterAsync(gateway, Plenty, Ct);
        await good.RegisterAsync(gateway, Little, Ct);

        await PutAndCheckStoredOnAsync(gateway, good);
        Assert.Equal(new Dictionary<string, long> { ["Unreachable"] = 1 }, instruments.CountsByKind(Retries));
    }

    [Fact]
    public async Task After_the_attempt_limit_the_put_is_503_and_commits_nothing()
    {
        await using var gateway = StartGateway(maxStoreAttempts: 3);
        using var instruments = new GatewayInstruments(gateway);
        var failing = new List<FakeNode>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                failing.Add(await FakeNode.StartAsync($"failing-{i}", FakeBehaviour.ServerError, Ct));
                await failing[^1].RegisterAsync(gateway, Plenty, Ct);
            }

            await PutAndCheckRefusedAsync(gateway, HttpStatusCode.ServiceUnavailable, "after 3 attempt(s)");
            Assert.Equal(3, failing.Sum(n => n.Attempts));
            Assert.All(failing, n => Assert.InRange(n.Attempts, 0, 1)); // each attempt on another node
            Assert.Equal(new Dictionary<string, long> { ["ServerError"] = 3 }, instruments.CountsByKind(Retries));
        }
        finally
        {
            foreach (var node in failing) await node.DisposeAsync();
        }
    }

    [Fact]
    public async Task Every_node_full_is_507_after_trying_each_once_and_commits_nothing()
    {
        await using var gateway = StartGateway();
        await using var a = await FakeNode.StartAsync("full-a", FakeBehaviour.Full, Ct);
        await using var b = await FakeNode.StartAsync("full-b", FakeBehaviour.Full, Ct);
        await a.RegisterAsync(gateway, Plenty, Ct);
        await b.RegisterAsync(gateway, Plenty, Ct);

        // Two nodes, four attempts allowed: placement runs out of nodes first.
        await PutAndCheckRefusedAsync(gateway, HttpStatusCode.InsufficientStorage, "after 2 attempt(s)");
        Assert.Equal((1, 1), (a.Attempts, b.Attempts));
    }

    [Fact]
    public async Task A_node_answering_400_ends_the_put_without_trying_others()
    {
        // A 400 says the request itself is wrong (the chunk id, the framing): every node would say the same.
        await using var gateway = StartGateway();
        using var instruments = new GatewayInstruments(gateway);
        await using var a = await FakeNode.StartAsync("bad-a", FakeBehaviour.BadRequest, Ct);
        await using var b = await FakeNode.StartAsync("bad-b", FakeBehaviour.BadRequest, Ct);
        await using var good = await FakeNode.StartAsync("good", FakeBehaviour.Store, Ct);
        await a.RegisterAsync(gateway, Plenty, Ct);
        await b.RegisterAsync(gateway, Plenty, Ct);
        await good.RegisterAsync(gateway, Little, Ct);

        await PutAndCheckRefusedAsync(gateway, HttpStatusCode.ServiceUnavailable, "after 1 attempt(s)");
        Assert.Equal(1, a.Attempts + b.Attempts);
        Assert.Equal(0, good.Attempts);
        Assert.Equal(new Dictionary<string, long> { ["BadRequest"] = 1 }, instruments.CountsByKind(Retries));
    }

    [Fact]
    public async Task A_store_hung_on_a_node_that_stops_heartbeating_moves_to_another_node_without_waiting_for_its_timeout()
    {
        // A node partitioned mid-transfer answers nothing and sends no error: only its silence tells. The store must move on
        // once the node turns suspect (1 s here), not after the node time limit (30 s here), which would say "Timeout".
        var gateway = new GatewayFactory()
            .With("Dfs:Gateway:NodeRequestTimeoutSeconds", "30")
            // Silence, not slowness, is what moves this store: no hedge beside it.
            .With("Dfs:Gateway:HedgeAfterMs", "0")
            .With("Dfs:Cluster:HeartbeatIntervalMs", "200")
            .With("Dfs:Cluster:NodeSuspectAfterMs", "1000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "3000");
        gateway.StartServer();
        await using var _ = gateway;
        using var instruments = new GatewayInstruments(gateway);
        await using var hung = await FakeNode.StartAsync("hung", FakeBehaviour.Hang, Ct);
        await using var good = await FakeNode.StartAsync("good", FakeBehaviour.Store, Ct);
        await hung.RegisterAsync(gateway, Plenty, Ct);
        await good.RegisterAsync(gateway, Little, Ct);
        using var stopHeartbeats = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        using var partition = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var heartbeats = Task.WhenAll(
            good.HeartbeatAsync(gateway, Little, TimeSpan.FromMilliseconds(200), stopHeartbeats.Token),
            hung.HeartbeatAsync(gateway, Plenty, TimeSpan.FromMilliseconds(200), partition.Token));
        // Past the gateway's first dead-time, when it starts judging silence (3 s after its start).
        await Task.Delay(TimeSpan.FromSeconds(3.5), Ct);

        var put = PutAndCheckStoredOnAsync(gateway, good);
        // The chunk is on its way to the hung node: now it falls silent.
        while (hung.Attempts == 0 && !put.IsCompleted) await Task.Delay(20, Ct);
        await partition.CancelAsync();
        await put;

        Assert.Equal(1, hung.Attempts);
        Assert.Equal(new Dictionary<string, long> { ["Unreachable"] = 1 }, instruments.CountsByKind(Retries));
        await stopHeartbeats.CancelAsync();
        await heartbeats;
    }

    [Fact]
    public async Task A_store_stalled_on_a_node_is_hedged_on_another_and_the_first_copy_stored_is_the_one_kept()
    {
        // A node that takes the bytes and never answers (a congested link, a paused process) while it still counts as live:
        // the store goes to another node too after the hedge delay, long before the node time limit (60 s here).
        await using var gateway = StartGateway(hedgeAfterMs: 200, nodeTimeoutSeconds: 60);
        using var instruments = new GatewayInstruments(gateway);
        await using var hung = await FakeNode.StartAsync("hung", FakeBehaviour.Hang, Ct);
        await using var good = await FakeNode.StartAsync("good", FakeBehaviour.Store, Ct);
        await hung.RegisterAsync(gateway, Plenty, Ct);
        await good.RegisterAsync(gateway, Little, Ct);

        await PutAndCheckStoredOnAsync(gateway, good).WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.Equal(1, hung.Attempts);
        Assert.Empty(hung.Chunks);
        Assert.Equal(1, instruments.CountsByKind("dfs.gateway.chunk_store.hedges").Values.Sum());
        // Dropped, not failed: no retry is counted.
        Assert.Empty(instruments.CountsByKind(Retries));
    }

    private static GatewayFactory StartGateway(int maxStoreAttempts = 4, int hedgeAfterMs = 0, int nodeTimeoutSeconds = 1)
    {
        var gateway = new GatewayFactory()
            .With("Dfs:Gateway:NodeRequestTimeoutSeconds", nodeTimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .With("Dfs:Gateway:MaxStoreAttempts", maxStoreAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture))
            // Failures, one attempt after the other: a hung node's store times out here instead of being hedged (see below).
            .With("Dfs:Gateway:HedgeAfterMs", hedgeAfterMs.ToString(System.Globalization.CultureInfo.InvariantCulture))
            // The scripted nodes do not heartbeat: they stay live for the test.
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        gateway.StartServer();
        return gateway;
    }

    private static readonly byte[] Data = Enumerable.Range(0, 1000).Select(i => (byte)(i * 7)).ToArray();

    /// <summary>PUTs a one-chunk file and checks it is committed with its one copy on <paramref name="node"/>; returns the chunk id.</summary>
    private static async Task<string> PutAndCheckStoredOnAsync(GatewayFactory gateway, FakeNode node)
    {
        var client = DfsRefit.Gateway(gateway.CreateClient());
        var put = await client.PutFileAsync("/file.bin", new MemoryStream(Data), ct: Ct);
        Assert.Equal(Data.Length, put.Size);
        var chunk = Assert.Single((await client.StatAsync("/file.bin", Ct)).Chunks);
        Assert.Equal(node.Name, Assert.Single(chunk.Replicas).NodeName);
        Assert.Equal(Data, node.Chunks[chunk.Id]);
        Assert.Equal(1, node.Attempts);
        return chunk.Id;
    }

    private static async Task PutAndCheckRefusedAsync(GatewayFactory gateway, HttpStatusCode status, string detail)
    {
        using var http = gateway.CreateClient();
        using var response = await http.PutAsync("/api/files/file.bin", new ByteArrayContent(Data), Ct);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
        Assert.Equal("Storage unavailable", problem!.Title);
        Assert.Contains(detail, problem.Detail);
        Assert.Contains("Nothing was committed", problem.Detail);
        var missing = await Assert.ThrowsAsync<DfsApiException>(() => DfsRefit.Gateway(http).StatAsync("/file.bin", Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }
}
