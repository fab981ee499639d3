using System.Diagnostics;
using System.Text.Json;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Dfs.AppHost.Cluster;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Tests.Servers;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Cluster;
using Dfs.Testing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dfs.AppHost.Tests.Cluster;

/// <summary>
/// What the AppHost does beside DCP in a running cluster: cluster.json, loopback-only listening, restarts of crashed
/// resources with backoff, health from each resource's probe, and PostgreSQL's clean stop with clients connected.
/// (The dashboard commands that add and drain nodes are the integration tests' business.)
/// </summary>
[Trait("Category", "Cluster")]
public sealed class ClusterTests(LocalClusterFixture fixture) : IClassFixture<LocalClusterFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private DfsTestCluster Cluster => fixture.Cluster;

    private static readonly string[] Names = ["metadata", "messaging-epmd", "messaging", "cache", "gateway", "node-1", "node-2", "node-3", "replicator"];

    private int Restarts(string name) =>
        Cluster.Snapshot(name).Properties.FirstOrDefault(p => p.Name == CrashRestarter.RestartsProperty)?.Value switch
        {
            int value => value,
            long value => (int)value,
            null => 0,
            var other => throw new InvalidOperationException($"restarts is {other}"),
        };

    private bool IsTerminal(string name) => Cluster.State(name) is { } state && KnownResourceStates.TerminalStates.Contains(state);

    private async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(25, Ct);
        }
    }

    [Fact]
    public async Task Cluster_json_describes_the_running_cluster_with_each_service_s_own_pid()
    {
        var path = ClusterFile.PathIn(Cluster.StateDirectory);
        // Written once the gateway is healthy, then kept current: every resource running.
        await WaitUntilAsync(() => ClusterFile.TryRead(Cluster.StateDirectory)?.Resources is { } r && r.Count == Names.Length && r.All(x => ResourceStates.IsRunning(x.State)),
            TimeSpan.FromSeconds(30), "cluster.json with every resource running");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(path, Ct));
        var root = json.RootElement;
        Assert.Equal("local", root.GetProperty("profile").GetString());
        Assert.Equal(Cluster.GatewayUrl.ToString().TrimEnd('/'), root.GetProperty("gateway").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("dashboard").ValueKind); // the tests run without the dashboard
        var resources = root.GetProperty("resources").EnumerateArray().ToList();
        Assert.Equal(Names, resources.Select(r => r.GetProperty("name").GetString()));
        var kinds = new Dictionary<string, string>
        {
            ["metadata"] = ResourceKinds.Postgres, ["messaging-epmd"] = ResourceKinds.Epmd, ["messaging"] = ResourceKinds.RabbitMq, ["cache"] = ResourceKinds.Redis,
            ["gateway"] = ResourceKinds.Gateway, ["replicator"] = ResourceKinds.Replicator,
        };
        foreach (var r in resources)
        {
            var name = r.GetProperty("name").GetString()!;
            Assert.Equal(kinds.GetValueOrDefault(name, ResourceKinds.StorageNode), r.GetProperty("kind").GetString());
            Assert.Equal("Running", r.GetProperty("state").GetString());
            var pid = r.GetProperty("pid").GetInt32();
            Assert.Equal(Cluster.ProcessId(name), pid);
            Assert.True(Procs.IsAlive(pid), $"{name}: {pid}");
            var endpoint = ((IResourceWithEndpoints)Cluster.Model.Resources.Single(x => x.Name == name)).GetEndpoints().First();
            Assert.EndsWith($":{endpoint.Port}", r.GetProperty("url").GetString()!.TrimEnd('/'));
        }
        // A service's pid is the service itself, not DCP's `dotnet run` above it.
        foreach (var (name, assembly) in new[] { ("gateway", "Dfs.Gateway"), ("node-1", "Dfs.StorageNode"), ("replicator", "Dfs.Replicator") })
        {
            var pid = resources.Single(r => r.GetProperty("name").GetString() == name).GetProperty("pid").GetInt32();
            var commandLine = Procs.CommandLine(pid)!;
            Assert.Contains(assembly, commandLine);
            Assert.DoesNotContain(" run ", commandLine);
        }
        Assert.Equal("postgres", Procs.Name(Cluster.ProcessId("metadata")!.Value));
        Assert.Equal("redis-server", Procs.Name(Cluster.ProcessId("cache")!.Value));
        Assert.Equal("epmd", Procs.Name(Cluster.ProcessId("messaging-epmd")!.Value));
    }

    [Fact]
    public void Every_process_of_the_cluster_listens_on_loopback_only()
    {
        // Everything of this cluster: DCP, the `dotnet run` wrappers, the services, the servers and their children.
        var dcp = Procs.DcpOf(Environment.ProcessId);
        Assert.NotEmpty(dcp);
        var processes = Procs.WithDescendants([.. dcp, .. Names.Select(n => ServerSupport.Pid(Cluster.App, n))]).ToList();
        Assert.Contains(Cluster.ProcessId("gateway")!.Value, processes);
        var listening = processes.SelectMany(p => Procs.ListeningOn(p).Select(a => (Process: $"{p} {Procs.Name(p)}", Address: a))).ToList();

        // Each resource's own port is among them (the check sees what it should).
        foreach (var name in Names)
        {
            var port = ((IResourceWithEndpoints)Cluster.Model.Resources.Single(r => r.Name == name)).GetEndpoints().First().Port;
            Assert.Contains(listening, l => l.Address.EndsWith($":{port}", StringComparison.Ordinal));
        }
        Assert.Contains(listening, l => l.Process.EndsWith(" beam.smp", StringComparison.Ordinal));
        Assert.All(listening, l => Assert.True(Procs.IsLoopback(l.Address), $"{l.Process} listens on {l.Address}"));
    }

    [Fact]
    public async Task A_crashed_node_is_restarted_by_itself_with_a_doubling_backoff_and_counted()
    {
        Assert.Equal(0, Restarts("node-1"));
        var first = Cluster.ProcessId("node-1")!.Value;
        var port = Cluster.Endpoint("node-1").Port;

        // A crash nobody asked for: SIGKILL of the service's own process (as the OOM killer would).
        await Cluster.KillResourceAsync("node-1", Ct);
        var down = Stopwatch.StartNew();
        await WaitUntilAsync(() => !IsTerminal("node-1"), TimeSpan.FromSeconds(30), "node-1 to be started again");
        var firstBackoff = down.Elapsed;
        await Cluster.WaitHealthyAsync("node-1", Ct);

        Assert.Equal(1, Restarts("node-1"));
        var second = Cluster.ProcessId("node-1")!.Value;
        Assert.NotEqual(first, second);
        Assert.False(Procs.IsAlive(first));
        Assert.InRange(firstBackoff.TotalSeconds, 0.9, 10);
        // The same node again: its port (and so the URL it registered with), the run's cluster secret.
        Assert.Equal(port, Cluster.Endpoint("node-1").Port);
        Assert.Contains($"127.0.0.1:{port}", Procs.ListeningOn(second));
        Assert.Contains("Dfs__Cluster__Secret=" + Cluster.Cluster.ClusterSecret, Procs.EnvironmentOf(second)!);
        // cluster.json follows: the new pid.
        await WaitUntilAsync(() => ClusterFile.TryRead(Cluster.StateDirectory)?.Resources.SingleOrDefault(r => r.Name == "node-1") is { Pid: { } pid } && pid == second,
            TimeSpan.FromSeconds(10), "the new pid of node-1 in cluster.json");

        await Cluster.KillResourceAsync("node-1", Ct);
        down.Restart();
        await WaitUntilAsync(() => !IsTerminal("node-1"), TimeSpan.FromSeconds(30), "node-1 to be started again");
        var secondBackoff = down.Elapsed;
        await Cluster.WaitHealthyAsync("node-1", Ct);

        Assert.Equal(2, Restarts("node-1"));
        Assert.InRange(secondBackoff.TotalSeconds, 1.9, 15);
        Assert.True(secondBackoff > firstBackoff, $"the second backoff ({secondBackoff}) is longer than the first ({firstBackoff})");
        Assert.NotEqual(second, Cluster.ProcessId("node-1"));
        // The rest of the cluster was not touched.
        Assert.All(Names.Where(n => n != "node-1"), n => Assert.Equal(0, Restarts(n)));
    }

    [Fact]
    public async Task A_resource_stopped_with_its_Stop_command_is_never_restarted()
    {
        await Cluster.StopResourceAsync("node-2", Ct);

        // Longer than the first backoff: a restart would have happened.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.True(IsTerminal("node-2"), $"node-2 is {Cluster.State("node-2")}");
        Assert.Equal(0, Restarts("node-2"));
        await WaitUntilAsync(() => ClusterFile.TryRead(Cluster.StateDirectory)?.Resources.Single(r => r.Name == "node-2") is { Pid: null } r && !ResourceStates.IsRunning(r.State),
            TimeSpan.FromSeconds(10), "cluster.json to show node-2 stopped");

        await Cluster.StartResourceAsync("node-2", Ct);
        Assert.Equal(0, Restarts("node-2"));
    }

    [Fact]
    public async Task Health_is_what_the_probe_says_unhealthy_while_a_node_is_frozen()
    {
        var pid = Cluster.ProcessId("node-3")!.Value;
        Assert.Equal(HealthStatus.Healthy, Cluster.Snapshot("node-3").HealthStatus);
        Assert.True(Procs.TrySignal(pid, Procs.SigStop));
        try
        {
            await WaitUntilAsync(() => Cluster.Snapshot("node-3").HealthStatus == HealthStatus.Unhealthy, TimeSpan.FromSeconds(90), "node-3 to be unhealthy");
            Assert.Equal(KnownResourceStates.Running, Cluster.State("node-3"));
        }
        finally
        {
            Procs.TrySignal(pid, Procs.SigCont);
        }
        await WaitUntilAsync(() => Cluster.Snapshot("node-3").HealthStatus == HealthStatus.Healthy, TimeSpan.FromSeconds(90), "node-3 to be healthy again");
        // A frozen process is not a crash: the same process, never restarted.
        Assert.Equal(pid, Cluster.ProcessId("node-3"));
        Assert.Equal(0, Restarts("node-3"));
    }

    [Fact]
    public async Task PostgreSQL_stopped_by_its_Stop_command_with_the_gateway_connected_needs_no_recovery()
    {
        var dataDirectory = Path.Combine(Cluster.StateDirectory, "metadata", "data");
        Assert.Equal("in production", await PostgresServerTests.ClusterStateAsync(dataDirectory));
        // The gateway holds pooled connections: a plain SIGTERM (a "smart" shutdown) would wait for them until killed.
        using (var gateway = Cluster.CreateGatewayClient())
            (await gateway.GetAsync(Dfs.Contracts.Api.ApiRoutes.Nodes, Ct)).EnsureSuccessStatusCode();
        var postmaster = Cluster.ProcessId("metadata")!.Value;

        var stopping = Stopwatch.StartNew();
        await Cluster.StopResourceAsync("metadata", Ct);

        Assert.Equal("shut down", await PostgresServerTests.ClusterStateAsync(dataDirectory));
        Assert.False(Procs.IsAlive(postmaster));
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(20), $"the stop took {stopping.Elapsed}");
        Assert.Equal(0, Restarts("metadata"));

        await Cluster.StartResourceAsync("metadata", Ct);
        await Cluster.WaitHealthyAsync("gateway", Ct);
        // The gateway finds its database again.
        await WaitUntilAsync(() =>
        {
            using var gateway = Cluster.CreateGatewayClient();
            try { return gateway.GetAsync(Dfs.Contracts.Api.ApiRoutes.Nodes, Ct).GetAwaiter().GetResult().IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, TimeSpan.FromSeconds(60), "the gateway to answer from its database again");
    }
}
