using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Dfs.AppHost.Resources;
using Dfs.AppHost.Testing;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Tests;

/// <summary>The real cluster: the services as built. Needs Dfs.Gateway, Dfs.StorageNode and Dfs.Replicator built.</summary>
[Trait("Category", "Cluster")]
public sealed class ClusterTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<IReadOnlyList<NodeInfo>> NodesAsync(HttpClient gateway) =>
        (await gateway.GetFromJsonAsync<List<NodeInfo>>(ApiRoutes.Nodes, DfsJson.Options, Ct))!;

    [Theory]
    [InlineData(Profiles.Local)]
    [InlineData(Profiles.Embedded)]
    public async Task A_cluster_starts_publishes_cluster_json_grows_and_leaves_nothing_behind(string profile)
    {
        await using var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = profile;
            o.Nodes = 2;
            o.ReplicationFactor = 2;
            o.HeartbeatIntervalMs = 500;
            o.NodeDeadAfterMs = 8000;
            o.ReplicatorReconcileIntervalMs = 1500;
            o.GcGraceMs = 60000;
            o.GcIntervalMs = 5000;
        }, TestLogging.Factory()).Build();
        await app.StartAsync(Ct);

        string[] expected = profile == Profiles.Local
            ? ["postgres", "rabbitmq", "gateway", "node-1", "node-2", "replicator"]
            : ["gateway", "node-1", "node-2"];
        using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(app.ClusterFilePath, Ct)))
        {
            var root = json.RootElement;
            Assert.Equal(profile, root.GetProperty("profile").GetString());
            Assert.Equal(app.GatewayUrl!.ToString().TrimEnd('/'), root.GetProperty("gateway").GetString());
            Assert.True(root.TryGetProperty("dashboard", out _));
            var resources = root.GetProperty("resources").EnumerateArray().ToList();
            Assert.Equal(expected, resources.Select(r => r.GetProperty("name").GetString()));
            foreach (var r in resources)
            {
                var name = r.GetProperty("name").GetString()!;
                var kind = r.GetProperty("kind").GetString();
                Assert.Equal(name.StartsWith("node-", StringComparison.Ordinal) ? ResourceKinds.StorageNode : name, kind);
                Assert.True(Procs.IsAlive(r.GetProperty("pid").GetInt32()));
                Assert.StartsWith(name switch { "postgres" => "tcp://127.0.0.1:", "rabbitmq" => "amqp://127.0.0.1:", _ => "http://127.0.0.1:" }, r.GetProperty("url").GetString());
                Assert.Equal("running", r.GetProperty("state").GetString());
            }
        }
        // What the services were started with, as they see it.
        var gatewayEnvironment = EnvironmentOf(app, "gateway");
        Assert.Equal("60000", gatewayEnvironment["Dfs__Gateway__GcGraceMs"]);
        Assert.Equal("5000", gatewayEnvironment["Dfs__Gateway__GcIntervalMs"]);
        if (profile == Profiles.Embedded)
        {
            Assert.StartsWith("Data Source=", app.GetConnectionString(ResourceNames.MetadataConnection));
            Assert.Null(app.GetConnectionString(ResourceNames.MessagingConnection));
            // No broker: the gateway hosts the Replicator, and with it the Replicator's settings.
            Assert.False(gatewayEnvironment.ContainsKey("ConnectionStrings__messaging"));
            Assert.Equal("1500", gatewayEnvironment["Dfs__Replicator__ReconcileIntervalMs"]);
        }
        else
        {
            Assert.StartsWith("Host=127.0.0.1;", app.GetConnectionString(ResourceNames.MetadataConnection));
            var messaging = app.GetConnectionString(ResourceNames.MessagingConnection);
            Assert.Equal($"amqp://guest:guest@127.0.0.1:{app.GetEndpoint("rabbitmq").Port}/", messaging);
            Assert.Equal(messaging, gatewayEnvironment["ConnectionStrings__messaging"]);
            Assert.False(gatewayEnvironment.ContainsKey("Dfs__Replicator__ReconcileIntervalMs"));

            var replicator = EnvironmentOf(app, "replicator");
            Assert.Equal(messaging, replicator["ConnectionStrings__messaging"]);
            Assert.Equal(app.GatewayUrl!.ToString().TrimEnd('/'), replicator["services__gateway__http__0"]);
            Assert.Equal(app.GetEndpoint("replicator").ToString().TrimEnd('/'), replicator["ASPNETCORE_URLS"]);
            Assert.Equal("500", replicator["Dfs__Cluster__HeartbeatIntervalMs"]);
            Assert.Equal("8000", replicator["Dfs__Cluster__NodeDeadAfterMs"]);
            Assert.Equal("1500", replicator["Dfs__Replicator__ReconcileIntervalMs"]);
            Assert.Equal(gatewayEnvironment["Dfs__Cluster__Secret"], replicator["Dfs__Cluster__Secret"]);
            Assert.Equal("replicator", replicator["OTEL_SERVICE_NAME"]);
            Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), replicator["DFS_PARENT_PID"]);
            using var replicatorClient = app.CreateHttpClient("replicator");
            Assert.Equal(HttpStatusCode.OK, (await replicatorClient.GetAsync("/health", Ct)).StatusCode);
        }

        using var gateway = app.CreateHttpClient("gateway");
        Assert.Equal(HttpStatusCode.OK, (await gateway.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(["node-1", "node-2"], (await NodesAsync(gateway)).Select(n => n.Name).Order());
        // The gateway's client is its first admin, whose password the AppHost keeps and passes on; others are refused.
        Assert.Equal(app.GatewayAdminPassword, gatewayEnvironment["Dfs__Gateway__Auth__AdminPassword"]);
        Assert.True((await new GatewayClient(gateway).WhoAmIAsync(Ct)).IsAdmin);
        using (var anonymous = app.CreateHttpClient("gateway"))
        {
            anonymous.DefaultRequestHeaders.Authorization = null;
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(ApiRoutes.Nodes, Ct)).StatusCode);
        }

        var added = await app.AddStorageNodeAsync(Ct);

        Assert.Equal("node-3", added);
        Assert.Equal(ResourceState.Running, app.GetResource("node-3").State);
        Assert.Equal(Path.Combine(app.StateDirectory, "node-3"), app.GetResource("node-3").DataDir);
        Assert.Contains(await NodesAsync(gateway), n => n.Name == "node-3" && n.Url == app.GetEndpoint("node-3").ToString().TrimEnd('/'));
        Assert.Contains(ClusterFile.TryRead(app.StateDirectory)!.Resources, r => r.Name == "node-3" && r.State == "running");

        var everything = app.Resources.SelectMany(r => Procs.WithDescendants(r.Pid!.Value)).ToList();
        // epmd daemonizes: not a descendant, but it carries the broker's node name.
        var broker = app.Resources.OfType<RabbitMqResource>().SingleOrDefault();
        if (broker is not null) everything.AddRange(broker.FindProcesses());
        // Loopback only: every port any of them listens on (PostgreSQL, AMQP, Erlang distribution, epmd, the services).
        var listening = everything.Distinct().SelectMany(p => Procs.ListeningOn(p).Select(a => $"{ProcessTable.Name(p)} {a}")).ToList();
        Assert.Contains(listening, l => l.EndsWith($":{app.GetEndpoint("gateway").Port}", StringComparison.Ordinal));
        Assert.All(listening, l => Assert.Matches(@" (127\.0\.0\.1|\[::1\]|\[127\.0\.0\.1\]):\d+$", l));
        if (broker is not null) Assert.Contains(listening, l => l.StartsWith("epmd ", StringComparison.Ordinal));
        var stateDir = app.StateDirectory;
        await app.DisposeAsync();
        await Procs.AssertAllGoneAsync(everything);
        Assert.Empty(Procs.Mentioning(stateDir));
    }

    private static Dictionary<string, string> EnvironmentOf(DfsApplication app, string resource) =>
        ProcessTable.EnvironmentOf(app.GetResource(resource).Pid!.Value)!
            .Select(e => e.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);

    [Fact]
    public async Task A_killed_node_comes_back_on_the_same_url()
    {
        await using var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Embedded;
            o.Nodes = 2;
            o.HeartbeatIntervalMs = 500;
            o.NodeDeadAfterMs = 8000;
        }, TestLogging.Factory()).Build();
        await app.StartAsync(Ct);
        var url = app.GetEndpoint("node-2");

        await app.KillResourceAsync("node-2", Ct);
        Assert.Equal(ResourceState.Exited, app.GetResource("node-2").State);
        using var gateway = app.CreateHttpClient("gateway");
        await Procs.EventuallyAsync(() => NodesAsync(gateway).Result.Single(n => n.Name == "node-2").State == NodeStates.Dead,
            TimeSpan.FromSeconds(20), "the gateway to declare node-2 dead");

        await app.StartResourceAsync("node-2", Ct);

        Assert.Equal(url, app.GetEndpoint("node-2"));
        await Procs.EventuallyAsync(() => NodesAsync(gateway).Result.Single(n => n.Name == "node-2").State == NodeStates.Live,
            TimeSpan.FromSeconds(15), "node-2 to be live again");
    }

    [Fact]
    public async Task The_exe_writes_cluster_json_and_stops_everything_on_SIGTERM()
    {
        var stateDir = Path.Combine(Path.GetTempPath(), "dfs-exe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            await using var exe = AppHostExe.Start("--state-dir", stateDir, "--nodes", "1", "--profile", "embedded", "--dashboard-port", "0");
            await Procs.EventuallyAsync(() => File.Exists(Path.Combine(stateDir, ClusterFile.FileName)) || exe.HasExited,
                TimeSpan.FromSeconds(90), "cluster.json");
            Assert.False(exe.HasExited, exe.Stdout + exe.Stderr);
            var cluster = ClusterFile.TryRead(stateDir)!;
            Assert.Equal("embedded", cluster.Profile);
            Assert.Equal(["gateway", "node-1"], cluster.Resources.Select(r => r.Name));
            await Procs.EventuallyAsync(() => exe.Stdout.Contains("Dfs gateway: " + cluster.Gateway, StringComparison.Ordinal), TimeSpan.FromSeconds(5), "the gateway line");
            // Like Aspire: the dashboard's login link, token included, is printed; cluster.json holds it for `dfs cluster`, owner-only.
            Assert.NotNull(cluster.Dashboard);
            Assert.Contains($"Dashboard:   {cluster.Dashboard}/login?t={cluster.DashboardToken}", exe.Stdout);
            var passwordFile = Path.Combine(stateDir, "gateway", "admin-password");
            await Procs.EventuallyAsync(() => exe.Stdout.Contains($"Admin: dfs login --user admin   (password in {passwordFile})", StringComparison.Ordinal),
                TimeSpan.FromSeconds(5), "the admin line");
            using (var admin = new HttpClient())
            {
                admin.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic("admin", File.ReadAllText(passwordFile).Trim());
                Assert.Contains("node-1", await admin.GetStringAsync(cluster.Gateway + "/api/nodes", TestContext.Current.CancellationToken));
            }
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(stateDir, ClusterFile.FileName)));
            using (var dashboard = new HttpClient())
            {
                Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await dashboard.GetAsync(cluster.Dashboard + "/api/resources", TestContext.Current.CancellationToken)).StatusCode);
                dashboard.DefaultRequestHeaders.Authorization = new("Bearer", cluster.DashboardToken);
                Assert.Contains("node-1", await dashboard.GetStringAsync(cluster.Dashboard + "/api/resources", TestContext.Current.CancellationToken));
            }
            var children = Procs.WithDescendants(exe.Pid).Where(p => p != exe.Pid).ToList();
            Assert.Contains(cluster.Resources[0].Pid!.Value, children);

            Procs.Signal(exe.Pid, "TERM");

            Assert.True(await exe.WaitForExitAsync(TimeSpan.FromSeconds(10)), "the AppHost exits within 10 s of SIGTERM");
            Assert.Equal(0, exe.ExitCode);
            await Procs.AssertAllGoneAsync(children, TimeSpan.FromSeconds(1));
            Assert.False(File.Exists(Path.Combine(stateDir, ClusterFile.FileName)));
        }
        finally
        {
            if (Directory.Exists(stateDir)) Directory.Delete(stateDir, recursive: true);
        }
    }
}
