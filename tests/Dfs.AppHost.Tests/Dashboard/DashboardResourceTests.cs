using System.Net;
using System.Net.Http.Json;
using Dfs.AppHost.Model;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Clients;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>The resources API the page and `dfs` use: what runs, actions on it, its console output.</summary>
[Trait("Category", "Dashboard")]
public sealed class DashboardResourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Resources_are_listed_stopped_started_and_restarted_through_the_API()
    {
        await using var cluster = await DashboardCluster.StartAsync(Ct);
        var app = cluster.App;

        var resources = await cluster.ResourcesAsync(Ct);
        Assert.Equal(["gateway", "node-1", "node-2"], resources.Select(r => r.Name));
        foreach (var r in resources)
        {
            var snapshot = app.GetResource(r.Name);
            Assert.Equal("running", r.State);
            Assert.Equal(r.Name == "gateway" ? "gateway" : "storage-node", r.Kind);
            Assert.Equal(snapshot.Pid, r.Pid);
            Assert.True(Procs.IsAlive(r.Pid!.Value));
            Assert.Equal(app.GetEndpoint(r.Name).ToString().TrimEnd('/'), r.Url);
            Assert.Equal(snapshot.StartedAt, r.StartedAt);
            Assert.InRange(r.UptimeSeconds!.Value, 0, 300);
            Assert.Equal(0, r.Restarts);
            Assert.Null(r.ExitCode);
        }

        // Stop: the answer comes once the process is gone, and says so.
        var node2Pid = resources.Single(r => r.Name == "node-2").Pid!.Value;
        var stopped = await PostAsync(cluster, "/api/resources/node-2/stop", HttpStatusCode.OK);
        Assert.Equal("stopped", stopped.State);
        Assert.Null(stopped.Pid);
        Assert.Null(stopped.UptimeSeconds);
        Assert.False(Procs.IsAlive(node2Pid));
        Assert.Equal(ResourceState.Stopped, app.GetResource("node-2").State);
        Assert.Equal("stopped", (await cluster.ResourceAsync("node-2", Ct)).State);
        // Stopping what is stopped is not an error.
        Assert.Equal("stopped", (await PostAsync(cluster, "/api/resources/node-2/stop", HttpStatusCode.OK)).State);

        // Start: answered once it is healthy again.
        var started = await PostAsync(cluster, "/api/resources/node-2/start", HttpStatusCode.OK);
        Assert.Equal("running", started.State);
        Assert.NotEqual(node2Pid, started.Pid);
        Assert.True(Procs.IsAlive(started.Pid!.Value));
        Assert.Equal(ResourceState.Running, app.GetResource("node-2").State);

        // Restart: a new process, healthy, and not counted as a crash restart.
        var node1 = await cluster.ResourceAsync("node-1", Ct);
        var restarted = await PostAsync(cluster, "/api/resources/node-1/restart", HttpStatusCode.OK);
        Assert.Equal("running", restarted.State);
        Assert.NotEqual(node1.Pid, restarted.Pid);
        Assert.False(Procs.IsAlive(node1.Pid!.Value));
        Assert.True(Procs.IsAlive(restarted.Pid!.Value));
        Assert.Equal(0, restarted.Restarts);
        Assert.Null(restarted.ExitCode);
        Assert.True(restarted.StartedAt > node1.StartedAt);
        Assert.All(await cluster.ResourcesAsync(Ct), r => Assert.Equal("running", r.State));

        // Unknown names and wrong kinds.
        foreach (var action in new[] { "stop", "start", "restart" })
            await AssertProblemAsync(await cluster.Api.PostAsync($"/api/resources/nope/{action}", null, Ct), HttpStatusCode.NotFound, "nope");
        await AssertProblemAsync(await cluster.Api.GetAsync("/api/resources/nope/logs", Ct), HttpStatusCode.NotFound, "nope");
        await AssertProblemAsync(await cluster.Api.DeleteAsync("/api/nodes/nope", Ct), HttpStatusCode.NotFound, "nope");
        await AssertProblemAsync(await cluster.Api.DeleteAsync("/api/nodes/gateway", Ct), HttpStatusCode.BadRequest, "storage node");
        await AssertProblemAsync(await cluster.Api.GetAsync("/api/nodes/node-1/removal", Ct), HttpStatusCode.NotFound, "node-1");
        Assert.All(await cluster.ResourcesAsync(Ct), r => Assert.Equal("running", r.State));
    }

    [Fact]
    public async Task Health_is_what_the_probe_says_unhealthy_while_a_node_is_frozen_and_unknown_once_stopped()
    {
        const int SigStop = 19, SigCont = 18;
        await using var cluster = await DashboardCluster.StartAsync(Ct);

        Assert.All(await cluster.ResourcesAsync(Ct), r => Assert.Equal("healthy", r.Health));
        var page = await cluster.Api.GetStringAsync("/", Ct);
        Assert.Contains("data-field=\"health\" class=\"badge health-healthy\">healthy<", page);

        // A frozen process keeps its pid but answers no probe: its health turns unhealthy, then healthy once it runs on.
        var pid = (await cluster.ResourceAsync("node-2", Ct)).Pid!.Value;
        Assert.True(Dfs.AppHost.Processes.Native.Signal(pid, SigStop));
        try
        {
            var frozen = await WaitForAsync(cluster, "node-2", r => r.Health == "unhealthy");
            Assert.Equal(pid, frozen.Pid);
        }
        finally
        {
            Dfs.AppHost.Processes.Native.Signal(pid, SigCont);
        }
        var thawed = await WaitForAsync(cluster, "node-2", r => r.Health == "healthy");
        Assert.Equal(pid, thawed.Pid);
        Assert.Equal("healthy", (await cluster.ResourceAsync("node-1", Ct)).Health);

        // Nothing runs, nothing is probed.
        Assert.Equal("unknown", (await PostAsync(cluster, "/api/resources/node-2/stop", HttpStatusCode.OK)).Health);
        Assert.Equal("unknown", (await cluster.ResourceAsync("node-2", Ct)).Health);
        Assert.Contains("data-field=\"health\" class=\"badge health-unknown\">unknown<", await cluster.Api.GetStringAsync("/", Ct));
    }

    /// <summary>Polls the API (the probe runs every second, and a frozen process times it out after five).</summary>
    private static async Task<ResourceJson> WaitForAsync(DashboardCluster cluster, string name, Func<ResourceJson, bool> predicate)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var resource = await cluster.ResourceAsync(name, Ct);
            if (predicate(resource)) return resource;
            Assert.True(DateTime.UtcNow < deadline, $"{name} is still {resource}");
            await Task.Delay(200, Ct);
        }
    }

    [Fact]
    public async Task Logs_are_read_by_sequence_and_filtered()
    {
        await using var cluster = await DashboardCluster.StartAsync(Ct);

        var all = await LogsAsync(cluster, "node-1", "?after=0&max=5000");
        Assert.NotEmpty(all.Lines);
        Assert.Contains(all.Lines, l => l.Text.Contains("starting node-1", StringComparison.Ordinal));
        Assert.Equal(all.Lines.Select(l => l.Seq).Order(), all.Lines.Select(l => l.Seq));
        Assert.Equal(all.Lines.Count, all.Lines.Select(l => l.Seq).Distinct().Count());
        Assert.Equal(all.Lines[^1].Seq, all.Last);

        // Paging: after and max.
        var firstTwo = await LogsAsync(cluster, "node-1", "?after=0&max=2");
        Assert.Equal(all.Lines.Take(2), firstTwo.Lines);
        Assert.Equal(firstTwo.Lines[^1].Seq, firstTwo.Last);
        var next = await LogsAsync(cluster, "node-1", $"?after={firstTwo.Last}&max=1");
        Assert.Equal(all.Lines[2], Assert.Single(next.Lines));
        var after = await LogsAsync(cluster, "node-1", $"?after={all.Last}");
        Assert.All(after.Lines, l => Assert.True(l.Seq > all.Last));
        Assert.True(after.Last >= all.Last);

        // q: case-insensitive substring, only matching lines, and a position to go on from.
        var filtered = await LogsAsync(cluster, "node-1", "?q=STARTING%20NODE-1");
        Assert.NotEmpty(filtered.Lines);
        Assert.All(filtered.Lines, l => Assert.Contains("starting node-1", l.Text, StringComparison.OrdinalIgnoreCase));
        Assert.Equal(all.Lines.Where(l => l.Text.Contains("starting node-1", StringComparison.OrdinalIgnoreCase)).Select(l => l.Seq),
            filtered.Lines.Where(l => l.Seq <= all.Last).Select(l => l.Seq));
        var none = await LogsAsync(cluster, "node-1", "?q=no-such-text-anywhere-3141");
        Assert.Empty(none.Lines);
        Assert.True(none.Last >= all.Last);

        // A restart's launch line comes after everything read before: polling with after=last sees it once.
        await DashboardResourceTests.PostAsync(cluster, "/api/resources/node-1/restart", HttpStatusCode.OK);
        var relaunch = await LogsAsync(cluster, "node-1", $"?after={all.Last}&q=starting%20node-1");
        Assert.True(Assert.Single(relaunch.Lines).Seq > all.Last);
        Assert.Empty((await LogsAsync(cluster, "node-1", $"?after={relaunch.Last}&q=starting%20node-1")).Lines);

        // Bad queries are 400 problems.
        foreach (var query in new[] { "?after=-1", "?after=abc", "?max=0", "?max=5001", "?max=x", "?after=1.5" })
            await AssertProblemAsync(await cluster.Api.GetAsync("/api/resources/node-1/logs" + query, Ct), HttpStatusCode.BadRequest, query.Contains("after") ? "after" : "max");

        // The page renders the output, marked where it matches.
        var html = await cluster.Api.GetStringAsync("/resources/node-1/logs?q=starting", Ct);
        Assert.Contains("<mark>starting</mark> node-1", html);
        Assert.Contains("id=\"log-search\"", html);
    }

    private static async Task<LogPageJson> LogsAsync(DashboardCluster cluster, string name, string query)
    {
        using var response = await cluster.Api.GetAsync($"/api/resources/{name}/logs{query}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<LogPageJson>(DfsJson.Options, Ct))!;
    }

    internal static async Task<ResourceJson> PostAsync(DashboardCluster cluster, string path, HttpStatusCode expected)
    {
        using var response = await cluster.Api.PostAsync(path, null, Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(response.StatusCode == expected, $"{path}: {(int)response.StatusCode} {body}");
        return System.Text.Json.JsonSerializer.Deserialize<ResourceJson>(body, DfsJson.Options)!;
    }

    internal static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ProblemJson>(DfsJson.Options, Ct);
            Assert.Equal((int)status, problem!.Status);
            Assert.Contains(detailContains, problem.Detail ?? "", StringComparison.OrdinalIgnoreCase);
        }
    }
}
