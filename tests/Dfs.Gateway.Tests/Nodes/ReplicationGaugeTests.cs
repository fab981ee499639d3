using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Tests.Api;

namespace Dfs.Gateway.Tests.Nodes;

/// <summary>Under-replicated chunks and the replication backlog, as the API and the gateway's gauges report them.</summary>
public sealed class ReplicationGaugeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_factor_above_the_node_count_is_under_replicated_but_not_backlog_in_the_api_and_the_gauges()
    {
        await using var gateway = new GatewayFactory()
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        gateway.StartServer();
        using var instruments = new GatewayInstruments(gateway);
        await using var a = await FakeNode.StartAsync("a", FakeBehaviour.Store, Ct);
        await using var b = await FakeNode.StartAsync("b", FakeBehaviour.Store, Ct);
        await a.RegisterAsync(gateway, 1L << 30, Ct);
        await b.RegisterAsync(gateway, 1L << 30, Ct);
        using var http = gateway.CreateClient();
        var client = DfsRefit.Gateway(http);

        // Nine copies wanted, two nodes: once both hold it, nothing more can be done until nodes join.
        await client.PutFileAsync("/nine.bin", new MemoryStream(Enumerable.Repeat((byte)9, 3000).ToArray()), new PutFileOptions(ReplicationFactor: 9), Ct);
        var nine = Assert.Single((await client.StatAsync("/nine.bin", Ct)).Chunks);
        var (holder, other) = nine.Replicas.Single().NodeName == a.Name ? (a, b) : (b, a);
        other.Chunks[nine.Id] = holder.Chunks[nine.Id];
        using (var cluster = gateway.CreateClusterClient())
            (await cluster.PostAsJsonAsync("/internal/replicas", new ReplicaReport(nine.Id, other.Id), DfsJson.Options, Ct)).EnsureSuccessStatusCode();
        // Two wanted, one copy, a second node live: work for the Replicator.
        await client.PutFileAsync("/two.bin", new MemoryStream(Enumerable.Repeat((byte)2, 3000).ToArray()), new PutFileOptions(ReplicationFactor: 2), Ct);

        // Copies count once the gateway has checked each node's inventory, and the gauges are measured every 10 s: poll.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(40);
        ReplicationStatus? status;
        IReadOnlyDictionary<string, long> gauges;
        while (true)
        {
            status = await http.GetFromJsonAsync<ReplicationStatus>(ApiRoutes.Replication, DfsJson.Options, Ct);
            gauges = instruments.Gauges();
            if (status is { UnderReplicatedChunks: 2, RepairableChunks: 1, UnreadableChunks: 0 }
                && gauges.GetValueOrDefault("dfs.gateway.chunks.under_replicated") == 2
                && gauges.GetValueOrDefault("dfs.gateway.chunks.replication_backlog") == 1)
                break;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"status {System.Text.Json.JsonSerializer.Serialize(status)}, gauges {string.Join(", ", gauges.Select(g => $"{g.Key}={g.Value}"))}");
            await Task.Delay(250, Ct);
        }
        Assert.Equal(0, gauges["dfs.gateway.chunks.unreadable"]);
        Assert.Equal(2, status.LiveNodes);
    }
}
