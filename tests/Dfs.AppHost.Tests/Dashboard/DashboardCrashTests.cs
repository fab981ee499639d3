using System.Net;
using Dfs.AppHost.Tests.Support;

namespace Dfs.AppHost.Tests.Dashboard;

[Trait("Category", "Dashboard")]
public sealed class DashboardCrashTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_killed_from_outside_is_restarted_and_the_dashboard_counts_it()
    {
        await using var cluster = await DashboardCluster.StartAsync(Ct);
        var before = await cluster.ResourceAsync("node-2", Ct);
        Assert.Equal("running", before.State);
        Assert.Equal(0, before.Restarts);

        // Not the AppHost's kill: a crash it did not ask for, as the OOM killer or an operator would cause.
        Procs.Signal(before.Pid!.Value, "KILL");

        ResourceJson now = before;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(45);
        var sawDown = false;
        while (DateTime.UtcNow < deadline)
        {
            now = await cluster.ResourceAsync("node-2", Ct);
            sawDown |= now.State is "exited" or "starting";
            if (now is { State: "running", Restarts: 1 } && now.Pid != before.Pid) break;
            await Task.Delay(100, Ct);
        }
        Assert.True(now is { State: "running", Restarts: 1 }, $"node-2 is {now.State} with {now.Restarts} restarts");
        Assert.NotEqual(before.Pid, now.Pid);
        Assert.True(Procs.IsAlive(now.Pid!.Value));
        Assert.False(Procs.IsAlive(before.Pid.Value));
        Assert.True(now.StartedAt > before.StartedAt);
        Assert.True(sawDown, "the dashboard showed node-2 down between the crash and the restart");

        // Its output tells what happened: SIGKILL is exit code 137.
        var crash = await cluster.Api.GetStringAsync("/api/resources/node-2/logs?q=exited%20with%20code", Ct);
        Assert.Contains("node-2 exited with code 137", crash);
        // The rest of the cluster was not touched.
        Assert.All((await cluster.ResourcesAsync(Ct)).Where(r => r.Name != "node-2"), r => Assert.Equal(0, r.Restarts));
        Assert.Equal(HttpStatusCode.OK, (await cluster.Api.GetAsync("/", Ct)).StatusCode);
    }
}
