using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.Gateway.Tests.Api;

/// <summary>The drain and removal endpoints over HTTP, through the typed client where there is one.</summary>
public sealed class NodeEndpointTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private HttpClient _http = null!;
    private IGatewayApi _client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _factory.StartServer();
        _http = _factory.CreateClient();
        _client = DfsRefit.Gateway(_http);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    private async Task<Guid> RegisterAsync(string name, Guid? id = null)
    {
        var nodeId = id ?? Guid.NewGuid();
        using var cluster = _factory.CreateClusterClient();
        using var response = await cluster.PostAsJsonAsync("/internal/nodes/register",
            new NodeRegistration(nodeId, name, $"http://127.0.0.1:1/{name}", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct);
        response.EnsureSuccessStatusCode();
        return nodeId;
    }

    [Theory]
    [InlineData("POST", "/api/nodes/nosuch/drain")]
    [InlineData("GET", "/api/nodes/nosuch/drain")]
    [InlineData("DELETE", "/api/nodes/nosuch/drain")]
    [InlineData("DELETE", "/api/nodes/nosuch")]
    [InlineData("DELETE", "/api/nodes/00000000-0000-0000-0000-000000000001?force=true")]
    public async Task Unknown_nodes_are_404_with_problem_details(string method, string url)
    {
        await RegisterAsync("known");
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        await AssertProblemAsync(await _http.SendAsync(request, Ct), HttpStatusCode.NotFound, "nosuch|00000000");
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("maybe")]
    public async Task A_bad_force_value_is_400_and_removes_nothing(string force)
    {
        await RegisterAsync("n1");
        await _client.DrainNodeAsync("n1", Ct);
        using var response = await _http.DeleteAsync($"/api/nodes/n1?force={force}", Ct);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "force must be true or false");
        Assert.Single(await _client.GetNodesAsync(Ct));
    }

    [Fact]
    public async Task Drain_watch_cancel_and_remove_through_the_typed_client()
    {
        var id = await RegisterAsync("n1");
        await RegisterAsync("n2");

        // Not drained: removal is refused with the reason, and the node stays.
        var refused = await Assert.ThrowsAsync<DfsApiException>(() => _client.RemoveNodeAsync("n1", ct: Ct));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("not drained", refused.Problem!.Detail);

        using (var raw = await _http.PostAsync("/api/nodes/n1/drain", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Accepted, raw.StatusCode);
            var started = await raw.Content.ReadFromJsonAsync<NodeDrainStatus>(DfsJson.Options, Ct);
            // It holds nothing, so it is drained at once.
            Assert.Equal(new NodeDrainStatus(id, "n1", true, 0, 0, true), started);
        }
        Assert.Equal(new NodeDrainStatus(id, "n1", true, 0, 0, true), await _client.DrainNodeAsync(id.ToString(), Ct));
        Assert.Equal(new NodeDrainStatus(id, "n1", true, 0, 0, true), await _client.GetDrainStatusAsync("n1", Ct));
        var nodes = await _client.GetNodesAsync(Ct);
        Assert.Equal([("n1", true), ("n2", false)], nodes.Select(n => (n.Name, n.Draining)));
        Assert.Equal(1, (await _client.GetClusterAsync(Ct)).DrainingNodes);

        Assert.Equal(new NodeDrainStatus(id, "n1", false, 0, 0, false), await _client.CancelDrainAsync("n1", Ct));
        Assert.All(await _client.GetNodesAsync(Ct), n => Assert.False(n.Draining));

        await _client.DrainNodeAsync("n1", Ct);
        using (var removed = await _http.DeleteAsync("/api/nodes/n1?force=false", Ct))
            Assert.Equal(HttpStatusCode.NoContent, removed.StatusCode);
        Assert.Equal(["n2"], (await _client.GetNodesAsync(Ct)).Select(n => n.Name));

        // force removes a node that was never drained.
        await _client.RemoveNodeAsync("n2", force: true, Ct);
        Assert.Empty(await _client.GetNodesAsync(Ct));
        var gone = await Assert.ThrowsAsync<DfsApiException>(() => _client.GetDrainStatusAsync("n2", Ct));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        // The replication view keeps working with nodes gone.
        using var replication = await _http.GetAsync(ApiRoutes.Replication, Ct);
        Assert.Equal(HttpStatusCode.OK, replication.StatusCode);
    }

    [Fact]
    public async Task A_removed_nodes_heartbeats_are_410_gone_until_its_process_registers_again()
    {
        var id = await RegisterAsync("n1");
        var heartbeat = new NodeHeartbeat(new NodeUsage(1 << 30, 1 << 30, 0, 0));
        using var cluster = _factory.CreateClusterClient();
        var node = DfsRefit.GatewayInternal(cluster);
        Assert.Equal(HeartbeatOutcome.Accepted, (await node.HeartbeatAsync(id, heartbeat, Ct)).Outcome);

        await _client.DrainNodeAsync("n1", Ct);
        await _client.RemoveNodeAsync("n1", ct: Ct);

        // Every later heartbeat is 410 with problem details (not 404, which would make the node register again).
        for (var i = 0; i < 2; i++)
            await AssertProblemAsync(await cluster.PostAsJsonAsync($"/internal/nodes/{id}/heartbeat", heartbeat, Ct),
                HttpStatusCode.Gone, $"Node {id} was removed from the cluster");
        var answer = await node.HeartbeatAsync(id, heartbeat, Ct);
        Assert.Equal(HeartbeatOutcome.Removed, answer.Outcome);
        Assert.Contains("its process should stop", answer.Reason);
        Assert.Empty(await _client.GetNodesAsync(Ct));
        // A node the gateway never had is still told to register.
        await AssertProblemAsync(await cluster.PostAsJsonAsync($"/internal/nodes/{Guid.NewGuid()}/heartbeat", heartbeat, Ct),
            HttpStatusCode.NotFound, "Register first");
        Assert.Equal(HeartbeatOutcome.Unknown, (await node.HeartbeatAsync(Guid.NewGuid(), heartbeat, Ct)).Outcome);

        // Started again, the process registers: the mark is gone and its heartbeats count again.
        await RegisterAsync("n1", id);
        Assert.Equal(HeartbeatOutcome.Accepted, (await node.HeartbeatAsync(id, heartbeat, Ct)).Outcome);
        var back = Assert.Single(await _client.GetNodesAsync(Ct));
        Assert.Equal((id, "n1", false), (back.Id, back.Name, back.Draining));

        // And a second removal sticks again.
        await _client.RemoveNodeAsync("n1", force: true, Ct);
        Assert.Equal(HeartbeatOutcome.Removed, (await node.HeartbeatAsync(id, heartbeat, Ct)).Outcome);
    }

    [Fact]
    public async Task A_name_shared_by_two_live_nodes_is_409_and_the_id_still_works()
    {
        var first = await RegisterAsync("twin");
        await RegisterAsync("twin");

        using var response = await _http.PostAsync("/api/nodes/twin/drain", null, Ct);
        await AssertProblemAsync(response, HttpStatusCode.Conflict, "use the node's id");
        Assert.True((await _client.DrainNodeAsync(first.ToString(), Ct)).Draining);
    }

    [Fact]
    public async Task OpenApi_describes_the_node_endpoints()
    {
        var doc = await _http.GetStringAsync("/openapi/v1.json", Ct);
        Assert.Contains("/api/nodes/{node}/drain", doc);
        Assert.Contains("/api/nodes/{node}\"", doc);
        Assert.Contains("NodeDrainStatus", doc);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContainsAny)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
            Assert.Equal((int)status, problem!.Status);
            var text = problem.Detail ?? problem.Title ?? "";
            Assert.True(detailContainsAny.Split('|').Any(part => text.Contains(part, StringComparison.OrdinalIgnoreCase)),
                $"'{text}' mentions none of '{detailContainsAny}'");
        }
    }
}
