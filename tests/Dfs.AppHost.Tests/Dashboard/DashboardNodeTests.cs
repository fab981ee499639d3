using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>Growing and shrinking the cluster from the dashboard: add a storage node, drain and remove one.</summary>
[Trait("Category", "Dashboard")]
public sealed class DashboardNodeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private sealed record NodeAddedJson(string Name);

    private sealed record RemovalJson(string Name, string Phase, long ChunksAtRisk, string? Error);

    [Fact]
    public async Task A_node_is_added_then_drained_and_removed_without_losing_data()
    {
        await using var cluster = await DashboardCluster.StartAsync(Ct, o =>
        {
            o.ChunkSizeBytes = 16 * 1024;
            o.ReplicatorReconcileIntervalMs = 500;
            // A node is suspect after 3 missed heartbeats, and copies on a suspect node do not count for a drain:
            // on a loaded machine 3 x 500 ms is too tight for the other nodes to stay counted throughout.
            o.HeartbeatIntervalMs = 1000;
            o.NodeDeadAfterMs = 10000;
        });

        // Add: answered once the node is healthy.
        NodeAddedJson added;
        using (var response = await cluster.Api.PostAsync("/api/nodes", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal("/api/resources/node-3", response.Headers.Location?.OriginalString);
            added = (await response.Content.ReadFromJsonAsync<NodeAddedJson>(DfsJson.Options, Ct))!;
        }
        Assert.Equal("node-3", added.Name);
        var node3 = await cluster.ResourceAsync("node-3", Ct);
        Assert.Equal("running", node3.State);
        Assert.Equal("storage-node", node3.Kind);
        Assert.True(Procs.IsAlive(node3.Pid!.Value));

        // Data spread over three nodes (two copies each), so node-3 holds some of it.
        var bytes = RandomNumberGenerator.GetBytes(40 * 16 * 1024);
        using var gatewayHttp = cluster.App.CreateHttpClient("gateway");
        var gateway = new GatewayClient(gatewayHttp);
        await Procs.EventuallyAsync(() => gateway.GetNodesAsync(Ct).Result.Count(n => n.State == NodeStates.Live) == 3,
            TimeSpan.FromSeconds(15), "three live nodes");
        using (var content = new ByteArrayContent(bytes))
        using (var response = await cluster.Api.PutAsync("/api/files/spread.bin", content, Ct))
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var before = await gateway.StatAsync("/spread.bin", Ct);
        Assert.Contains(before.Chunks, c => c.Replicas.Any(r => r.NodeName == "node-3"));

        // Remove: 202 at once with the removal's phase; it ends with the node gone and nothing lost.
        RemovalJson removal;
        using (var response = await cluster.Api.DeleteAsync("/api/nodes/node-3", Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            Assert.Equal("/api/nodes/node-3/removal", response.Headers.Location?.OriginalString);
            removal = (await response.Content.ReadFromJsonAsync<RemovalJson>(DfsJson.Options, Ct))!;
        }
        Assert.Equal("node-3", removal.Name);
        Assert.Contains(removal.Phase, new[] { "draining", "stopping", "removed" });
        // While it drains, the node cannot be started or stopped from here.
        if (removal.Phase == "draining")
        {
            using var busy = await cluster.Api.PostAsync("/api/resources/node-3/stop", null, Ct);
            // 404 once it is already gone.
            Assert.True(busy.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.NotFound, busy.StatusCode.ToString());
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (removal.Phase is "draining" or "stopping" && DateTime.UtcNow < deadline)
        {
            await Task.Delay(200, Ct);
            removal = (await cluster.Api.GetFromJsonAsync<RemovalJson>("/api/nodes/node-3/removal", DfsJson.Options, Ct))!;
        }
        Assert.True(removal.Phase == "removed", $"removal ended {removal.Phase}: {removal.Error}");
        Assert.Null(removal.Error);
        Assert.Equal(0, removal.ChunksAtRisk);

        Assert.DoesNotContain(await cluster.ResourcesAsync(Ct), r => r.Name == "node-3");
        Assert.False(Procs.IsAlive(node3.Pid.Value));
        Assert.DoesNotContain(await gateway.GetNodesAsync(Ct), n => n.Name == "node-3");
        var removals = await cluster.Api.GetFromJsonAsync<List<RemovalJson>>("/api/removals", DfsJson.Options, Ct);
        Assert.Contains(removals!, r => r is { Name: "node-3", Phase: "removed" });
        await DashboardResourceTests.AssertProblemAsync(await cluster.Api.DeleteAsync("/api/nodes/node-3", Ct), HttpStatusCode.NotFound, "node-3");

        var after = await gateway.StatAsync("/spread.bin", Ct);
        Assert.All(after.Chunks, c => Assert.NotEmpty(c.Replicas));
        Assert.All(after.Chunks, c => Assert.DoesNotContain(c.Replicas, r => r.NodeName == "node-3"));
        using var download = await cluster.Api.GetAsync("/api/files/spread.bin", Ct);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(await download.Content.ReadAsByteArrayAsync(Ct)));
    }
}
