using System.Net;
using System.Net.Http.Headers;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.IntegrationTests;

/// <summary>Three gateways side by side over one PostgreSQL and one Redis (the local profile with --gateways 3).</summary>
public sealed class MultiGatewayFixture : ClusterFixture
{
    protected override void Configure(DfsClusterOptions options)
    {
        options.Gateways = 3;
        options.ReplicationFactor = 2;
    }
}

[CollectionDefinition(Name)]
public sealed class MultiGatewayCollection : ICollectionFixture<MultiGatewayFixture>
{
    public const string Name = "multi-gateway";
}

/// <summary>
/// Whatever gateway a client reaches, it sees what any other gateway acknowledged: files, users and tokens, node liveness and
/// drains, and one rate-limit budget. Redis stopped or a gateway killed mid-traffic fails nothing a healthy cluster would serve.
/// </summary>
[Collection(MultiGatewayCollection.Name)]
public sealed class MultiGatewayTests(MultiGatewayFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private IReadOnlyList<string> Gateways => cluster.App.Gateways;

    [Fact]
    public async Task The_cluster_runs_three_gateway_processes_sharing_Redis()
    {
        Assert.Equal([DfsCluster.GatewayName, "gateway-2", "gateway-3"], Gateways);
        var seen = new HashSet<int>();
        foreach (var gateway in Gateways)
        {
            var info = await cluster.App.CreateGateway(gateway).GetGatewayAsync(Ct);
            Assert.Equal("redis", info.SharedState);
            Assert.True(info.SharedStateReachable);
            seen.Add(info.ProcessId);
        }
        Assert.Equal(3, seen.Count);
    }

    [Fact]
    public async Task Every_write_through_one_gateway_is_read_back_through_the_others_at_once()
    {
        var apis = Gateways.Select(g => cluster.App.CreateGateway(g)).ToList();
        var expected = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var random = new Random(1207);
        const int Files = 6;
        for (var op = 0; op < 300; op++)
        {
            var writer = apis[op % apis.Count];
            var path = $"/ryw/f{random.Next(Files)}.bin";
            switch (random.Next(4))
            {
                case 0 or 1:
                    var bytes = TestData.Random(random.Next(1, 3000), op);
                    await writer.PutFileAsync(path, new MemoryStream(bytes), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
                    expected[path] = bytes;
                    break;
                case 2 when expected.ContainsKey(path):
                    var to = $"/ryw/f{random.Next(Files)}.bin";
                    if (expected.ContainsKey(to)) continue;
                    await writer.MoveAsync(path, to, Ct);
                    expected[to] = expected[path];
                    expected.Remove(path);
                    break;
                case 3 when expected.ContainsKey(path):
                    await writer.DeleteAsync(path, recursive: false, Ct);
                    expected.Remove(path);
                    break;
                default:
                    continue;
            }

            // Read-your-writes on every other gateway, right after the acknowledgement.
            foreach (var reader in apis.Where(a => a != writer))
                foreach (var file in Enumerable.Range(0, Files).Select(i => $"/ryw/f{i}.bin"))
                    await AssertContentAsync(reader, file, expected.GetValueOrDefault(file), op);
        }
    }

    [Fact]
    public async Task A_token_revoked_through_one_gateway_is_refused_by_another_on_its_next_request()
    {
        var first = cluster.App.CreateGateway(Gateways[0]);
        var token = await first.CreateTokenAsync("multi-gateway", ct: Ct);
        using var bearer = new HttpClient(cluster.App.CreateHandler()) { BaseAddress = cluster.App.GatewayUrlOf(Gateways[1]) };
        bearer.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
        // Twice: the second answer comes from the second gateway's credential cache.
        var before = await cluster.App.CreateGateway(Gateways[1]).GetGatewayAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync(ApiRoutes.WhoAmI, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync(ApiRoutes.WhoAmI, Ct)).StatusCode);
        var after = await cluster.App.CreateGateway(Gateways[1]).GetGatewayAsync(Ct);
        Assert.True(after.CredentialCacheHits > before.CredentialCacheHits, "the second gateway did not cache the token");

        await first.RevokeTokenAsync(token.Id, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync(ApiRoutes.WhoAmI, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync(new Uri(cluster.App.GatewayUrlOf(Gateways[2]), ApiRoutes.WhoAmI), Ct)).StatusCode);
    }

    [Fact]
    public async Task A_heartbeat_one_gateway_receives_makes_the_node_live_on_the_others()
    {
        using var signed = cluster.App.CreateClusterHttpClient();
        signed.BaseAddress = cluster.App.GatewayUrlOf(Gateways[0]);
        var internalApi = DfsRefit.GatewayInternal(signed);
        var id = Guid.NewGuid();
        // No free space: placement never picks this node that exists only in heartbeats.
        var usage = new NodeUsage(1000, 0, 1000, 0);
        await internalApi.RegisterNodeAsync(new NodeRegistration(id, "node-heartbeats-only", "http://127.0.0.1:9/", usage), Ct);
        try
        {
            var second = cluster.App.CreateGateway(Gateways[1]);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            var beats = 0;
            // It stays live on the second gateway only as long as the first one hears from it.
            while (true)
            {
                Assert.Equal(HeartbeatOutcome.Accepted, (await internalApi.HeartbeatAsync(id, new NodeHeartbeat(usage), Ct)).Outcome);
                var seen = (await second.GetNodesAsync(Ct)).SingleOrDefault(n => n.Id == id);
                if (seen?.State == NodeStates.Live && ++beats > 20) break;
                Assert.True(DateTime.UtcNow < deadline, $"the second gateway sees the node as {seen?.State ?? "unknown"}");
                await Task.Delay(cluster.App.Cluster.Options.HeartbeatIntervalMs, Ct);
            }
            // Silent now: the second gateway stops calling it live too.
            await NodeWaits.UntilAsync(async () => (await second.GetNodesAsync(Ct)).Single(n => n.Id == id).State != NodeStates.Live,
                TimeSpan.FromSeconds(20), "the node stayed live on the second gateway after its heartbeats stopped", Ct);
        }
        finally
        {
            await cluster.App.CreateGateway(Gateways[2]).RemoveNodeAsync(id.ToString(), force: true, Ct);
        }
        // Removed through the third gateway: the first one answers its next heartbeat 410 Gone.
        Assert.Equal(HeartbeatOutcome.Removed, (await internalApi.HeartbeatAsync(id, new NodeHeartbeat(usage), Ct)).Outcome);
    }

    [Fact]
    public async Task A_drain_started_through_one_gateway_stops_the_others_placing_on_that_node()
    {
        var first = cluster.App.CreateGateway(Gateways[0]);
        var second = cluster.App.CreateGateway(Gateways[1]);
        var drained = cluster.App.RunningStorageNodes[0];
        await first.DrainNodeAsync(drained, Ct);
        try
        {
            for (var i = 0; i < 12; i++)
            {
                var path = $"/drain-elsewhere/f{i}.bin";
                await second.PutFileAsync(path, new MemoryStream(TestData.Random(20_000, 400 + i)), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
                var stat = await second.StatAsync(path, Ct);
                Assert.All(stat.Chunks, c => Assert.DoesNotContain(c.Replicas, r => r.NodeName == drained));
            }
        }
        finally
        {
            await first.CancelDrainAsync(drained, Ct);
        }
    }

    [Fact]
    public async Task Redis_stopped_and_started_mid_traffic_fails_no_request_serves_nothing_stale_and_cache_hits_resume()
    {
        using var traffic = new GatewayTraffic(cluster.App, Gateways, "/redis-outage");
        var running = traffic.RunAsync(Ct);
        await traffic.WaitForOperationsAsync(40, Ct);

        await cluster.App.StopResourceAsync(DfsCluster.CacheName, Ct);
        await traffic.WaitForOperationsAsync(40, Ct);
        var down = await cluster.App.CreateGateway(Gateways[1]).GetGatewayAsync(Ct);
        Assert.False(down.SharedStateReachable);

        await cluster.App.StartResourceAsync(DfsCluster.CacheName, Ct);
        // Back by itself: each gateway reconnects and serves from its caches again.
        foreach (var gateway in Gateways)
        {
            var api = cluster.App.CreateGateway(gateway);
            await NodeWaits.UntilAsync(async () => (await api.GetGatewayAsync(Ct)).SharedStateReachable, TimeSpan.FromSeconds(30),
                $"{gateway} did not reconnect to Redis", Ct);
            var before = await api.GetGatewayAsync(Ct);
            await api.WhoAmIAsync(Ct);
            await api.WhoAmIAsync(Ct);
            Assert.True((await api.GetGatewayAsync(Ct)).CredentialCacheHits > before.CredentialCacheHits, $"{gateway} does not hit its cache again");
        }
        await traffic.WaitForOperationsAsync(40, Ct);
        await traffic.StopAsync(running);
        Assert.True(traffic.Failures.Count == 0, traffic.Report());
    }

    [Fact]
    public async Task A_gateway_killed_mid_traffic_leaves_the_others_serving_and_loses_no_acknowledged_write()
    {
        var victim = Gateways[2];
        var survivors = Gateways.Take(2).ToList();
        using var traffic = new GatewayTraffic(cluster.App, survivors, "/gateway-kill");
        var running = traffic.RunAsync(Ct);
        // Writes acknowledged by the victim before it dies.
        var victimApi = cluster.App.CreateGateway(victim);
        var acknowledged = new Dictionary<string, byte[]>();
        for (var i = 0; i < 10; i++)
        {
            var bytes = TestData.Random(5000 + i, 900 + i);
            await victimApi.PutFileAsync($"/gateway-kill/victim-{i}.bin", new MemoryStream(bytes), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
            acknowledged[$"/gateway-kill/victim-{i}.bin"] = bytes;
        }
        await traffic.WaitForOperationsAsync(20, Ct);

        await cluster.App.KillResourceAsync(victim, Ct);
        try
        {
            await traffic.WaitForOperationsAsync(60, Ct);
            // The nodes' heartbeats go round the gateways, and a failed one is retried on the next: no node is lost.
            await Task.Delay(2 * cluster.App.Cluster.Options.NodeDeadAfterMs, Ct);
            var nodes = await cluster.App.CreateGateway(survivors[0]).GetNodesAsync(Ct);
            Assert.All(nodes.Where(n => cluster.App.RunningStorageNodes.Contains(n.Name)), n => Assert.NotEqual(NodeStates.Dead, n.State));
            await traffic.StopAsync(running);
            Assert.True(traffic.Failures.Count == 0, traffic.Report());
            foreach (var (path, bytes) in acknowledged)
                foreach (var survivor in survivors)
                    await AssertContentAsync(cluster.App.CreateGateway(survivor), path, bytes, -1);
            foreach (var (path, bytes) in traffic.Acknowledged)
                await AssertContentAsync(cluster.App.CreateGateway(survivors[1]), path, bytes, -1);
        }
        finally
        {
            await cluster.App.StartResourceAsync(victim, Ct);
        }
    }

    private static async Task AssertContentAsync(IGatewayApi reader, string path, byte[]? expected, int op)
    {
        try
        {
            await using var download = await reader.GetFileAsync(path, ct: Ct);
            var actual = new MemoryStream();
            await download.Content.CopyToAsync(actual, Ct);
            Assert.True(expected is not null, $"op {op}: {path} should be gone but was served");
            Assert.True(expected.AsSpan().SequenceEqual(actual.ToArray()), $"op {op}: {path} served other bytes than the last acknowledged write");
        }
        catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            Assert.True(expected is null, $"op {op}: {path} was not found after a write was acknowledged");
        }
    }

    /// <summary>
    /// Clients writing and reading back through the given gateways in turn, each one's file its own: every write's bytes must
    /// be read back through the next gateway. Records any failure a healthy cluster would not have given.
    /// </summary>
    private sealed class GatewayTraffic(DfsTestCluster app, IReadOnlyList<string> gateways, string folder) : IDisposable
    {
        private readonly CancellationTokenSource _stop = new();
        private readonly List<HttpClient> _clients = [];
        private int _operations;

        public List<string> Failures { get; } = [];

        public Dictionary<string, byte[]> Acknowledged { get; } = new(StringComparer.Ordinal);

        public Task RunAsync(CancellationToken ct) =>
            Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() => WorkAsync(worker, ct), ct)));

        public async Task WaitForOperationsAsync(int more, CancellationToken ct)
        {
            var target = Volatile.Read(ref _operations) + more;
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (Volatile.Read(ref _operations) < target)
            {
                lock (Failures) Assert.True(Failures.Count == 0, Report());
                Assert.True(DateTime.UtcNow < deadline, $"traffic stalled at {_operations} operations");
                await Task.Delay(50, ct);
            }
        }

        public async Task StopAsync(Task running)
        {
            await _stop.CancelAsync();
            await running;
        }

        /// <summary>The first failures, and what the gateways logged about failures (a 500's cause is only in their logs).</summary>
        public string Report()
        {
            string failures;
            lock (Failures) failures = string.Join('\n', Failures.Take(10));
            var logged = gateways.Select(g => $"--- {g}:\n" + string.Join('\n', app.Output(g).Split('\n')
                .Where(line => line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("exception", StringComparison.OrdinalIgnoreCase)
                    || line.TrimStart().StartsWith("at ", StringComparison.Ordinal))
                .TakeLast(40)));
            return failures + "\n" + string.Join('\n', logged);
        }

        public void Dispose()
        {
            _stop.Cancel();
            foreach (var client in _clients) client.Dispose();
            _stop.Dispose();
        }

        private async Task WorkAsync(int worker, CancellationToken ct)
        {
            var apis = gateways.Select(g =>
            {
                var client = app.CreateGatewayClient(g);
                lock (_clients) _clients.Add(client);
                return DfsRefit.Gateway(client);
            }).ToList();
            var path = $"{folder}/worker-{worker}.bin";
            for (var round = 0; !_stop.IsCancellationRequested; round++)
            {
                var bytes = TestData.Random(1000 + round % 5000, worker * 100_000 + round);
                try
                {
                    await apis[round % apis.Count].PutFileAsync(path, new MemoryStream(bytes), new PutFileOptions(ConflictPolicy.Overwrite), ct);
                    lock (Acknowledged) Acknowledged[path] = bytes;
                    await using var download = await apis[(round + 1) % apis.Count].GetFileAsync(path, ct: ct);
                    var actual = new MemoryStream();
                    await download.Content.CopyToAsync(actual, ct);
                    if (!bytes.AsSpan().SequenceEqual(actual.ToArray()))
                        lock (Failures) Failures.Add($"{path} round {round}: stale or wrong bytes");
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    lock (Failures) Failures.Add($"{path} round {round}: {e.GetType().Name}: {e.Message}");
                }
                Interlocked.Increment(ref _operations);
            }
        }
    }
}
