using System.Net.Http.Json;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>A cluster whose only replication targets refuse every copy, until a new node joins and a refusing node gets room.</summary>
public sealed class ReplicationFailureTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_consumer_that_keeps_failing_ends_in_the_error_queue_then_a_new_node_and_a_target_that_works_again_get_the_repair()
    {
        // node-1 has room; node-2 and node-3 are nearly full: placement avoids them and they refuse copies (507).
        // Three copies wanted, so one new node is not enough: the last copy needs a refusing node to work again.
        var tiny = new Dictionary<string, string> { ["Dfs__StorageNode__CapacityBytes"] = "65536", ["Dfs__StorageNode__ReserveBytes"] = "0" };
        await using var app = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 3;
            // The node that joins: a spare the gateway's "Add storage node" starts.
            o.SpareNodes = 1;
            o.ReplicationFactor = 3;
            o.ChunkSizeBytes = 256 * 1024;
            o.HeartbeatIntervalMs = 300;
            o.NodeDeadAfterMs = 3000;
            o.ReconcileIntervalMs = 1000;
            o.ResourceEnvironment["node-2"] = tiny;
            o.ResourceEnvironment["node-3"] = new(tiny);
            o.ResourceEnvironment["replicator"] = ReplicationTiming.FastRetries;
        }, Ct);
        using var http = app.CreateGatewayClient();
        var gateway = DfsRefit.Gateway(http);

        var data = TestData.Random(200_000, 91);
        await gateway.PutFileAsync("/fail/only-one-copy.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal("node-1", (await gateway.StatAsync("/fail/only-one-copy.bin", Ct)).Chunks.Single().Replicas.Single().NodeName);

        // Retries with backoff, then the FileStored message lands in the error queue, visible through the API.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        ReplicationStatus? status;
        while (true)
        {
            status = await http.GetFromJsonAsync<ReplicationStatus>(ApiRoutes.Replication, Ct);
            if (status!.ErrorQueues?.GetValueOrDefault("file-stored_error") >= 1) break;
            if (DateTime.UtcNow > deadline) Assert.Fail($"no message in the error queue: {System.Text.Json.JsonSerializer.Serialize(status)}");
            await Task.Delay(300, Ct);
        }
        Assert.True(status.UnderReplicatedChunks >= 1);
        Assert.True(status.RepairableChunks >= 1, "a chunk on one node that could be on two is backlog");

        // A node with room joins: the reconciler repairs onto it.
        var added = await app.ExecuteCommandAsync(DfsCluster.GatewayName, StorageNodeCommands.AddNode, Ct);
        Assert.True(added.Success, added.Message);
        const string joined = "node-4";
        await app.WaitHealthyAsync(joined, Ct);
        var stat = await ReplicationTiming.WaitForCopiesAsync(gateway, "/fail/only-one-copy.bin", 2, TimeSpan.FromSeconds(30), Ct);
        Assert.Contains(stat.Chunks.Single().Replicas, r => r.NodeName == joined);

        // node-2, which refused every copy so far, comes back with room: the same reconciler now repairs onto it. Its
        // extra environment is read at each start, so emptying it and restarting the resource gives the node its default capacity.
        app.Cluster.Options.ResourceEnvironment["node-2"].Clear();
        await app.RestartResourceAsync("node-2", Ct);
        stat = await ReplicationTiming.WaitForCopiesAsync(gateway, "/fail/only-one-copy.bin", 3, TimeSpan.FromSeconds(30), Ct);
        Assert.Equal(new[] { "node-1", "node-2", joined }.Order(StringComparer.Ordinal), stat.Chunks.Single().Replicas.Select(r => r.NodeName).Order(StringComparer.Ordinal));
        // The restarted node's copies count once its inventory is checked, which may trail the copy it just took.
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((status = await http.GetFromJsonAsync<ReplicationStatus>(ApiRoutes.Replication, Ct))!.UnderReplicatedChunks != 0)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"still under-replicated: {System.Text.Json.JsonSerializer.Serialize(status)}");
            await Task.Delay(200, Ct);
        }
        Assert.Equal(0, status.RepairableChunks);
        Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/fail/only-one-copy.bin", Ct));
    }
}
