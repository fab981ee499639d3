using System.Collections;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Tests.Support;

namespace Dfs.AppHost.Tests;

public sealed class CommandLineTests : IDisposable
{
    private readonly string _baseDir = Path.Combine(Path.GetTempPath(), "dfs-cli-" + Guid.NewGuid().ToString("N")[..8]);

    public CommandLineTests() => Directory.CreateDirectory(_baseDir);

    public void Dispose() => Directory.Delete(_baseDir, recursive: true);

    private AppHostCommand Parse(string[] args, IDictionary? environment = null) =>
        AppHostConfiguration.Parse(args, environment ?? new Hashtable(), _baseDir);

    [Fact]
    public void Every_switch_sets_its_option()
    {
        var command = Parse(["--state-dir", "/tmp/x", "--nodes", "3", "--profile", "embedded", "--replication", "2",
            "--chunk-size", "1M", "--gateway-port=5123", "--heartbeat-ms", "300", "--node-dead-after-ms", "2000", "--configuration", "Release",
            "--reconcile-ms", "750", "--gc-grace-ms", "0", "--gc-interval-ms", "400"]);

        Assert.True(command.IsValid, string.Join("; ", command.Errors));
        var o = command.Options!;
        Assert.Equal("/tmp/x", o.StateDir);
        Assert.Equal(3, o.Nodes);
        Assert.Equal(Profiles.Embedded, o.Profile);
        Assert.Equal(2, o.ReplicationFactor);
        Assert.Equal(1024 * 1024, o.ChunkSizeBytes);
        Assert.Equal(5123, o.GatewayPort);
        Assert.Equal(300, o.HeartbeatIntervalMs);
        Assert.Equal(2000, o.NodeDeadAfterMs);
        Assert.Equal("Release", o.ServiceConfiguration);
        Assert.Equal(750, o.ReplicatorReconcileIntervalMs);
        Assert.Equal(0, o.GcGraceMs);
        Assert.Equal(400, o.GcIntervalMs);
    }

    [Fact]
    public void External_profile_dashboard_and_connection_switches_set_their_options()
    {
        var command = Parse(["--profile", "external", "--metadata", "Host=db.example;Database=dfs;Username=u;Password=p",
            "--messaging", "amqp://u:p@mq.example:5672/", "--dashboard-port", "0", "--no-dashboard"]);

        Assert.True(command.IsValid, string.Join("; ", command.Errors));
        var o = command.Options!;
        Assert.Equal(Profiles.External, o.Profile);
        Assert.Equal("Host=db.example;Database=dfs;Username=u;Password=p", o.MetadataConnectionString);
        Assert.Equal("amqp://u:p@mq.example:5672/", o.MessagingConnectionString);
        Assert.Equal(0, o.DashboardPort);
        Assert.False(o.Dashboard);
    }

    [Theory]
    [InlineData(new[] { "--profile", "external" }, "needs the metadata connection string")]
    [InlineData(new[] { "--profile", "local", "--metadata", "Host=x" }, "connection strings are for --profile external")]
    [InlineData(new[] { "--messaging", "amqp://x/" }, "without a metadata connection string")]
    [InlineData(new[] { "--dashboard-port", "70000" }, "dashboard-port must be between 0 and 65535")]
    [InlineData(new[] { "--no-dashboard=yes" }, "--no-dashboard takes no value")]
    public void Inconsistent_external_and_dashboard_settings_are_refused_with_a_reason(string[] args, string expected)
    {
        var command = Parse(args);
        Assert.False(command.IsValid);
        Assert.Contains(command.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_short_dashboard_token_from_the_environment_is_refused()
    {
        var command = Parse([], new Hashtable { ["DFS_APPHOST_DASHBOARD_TOKEN"] = "short" });
        Assert.Contains(command.Errors, e => e.Contains("at least 16 characters", StringComparison.Ordinal));
        var good = Parse([], new Hashtable { ["DFS_APPHOST_DASHBOARD_TOKEN"] = "0123456789abcdef0123" });
        Assert.Equal("0123456789abcdef0123", good.Options!.DashboardToken);
    }

    [Fact]
    public void Defaults_follow_the_design()
    {
        var o = Parse([]).Options!;
        Assert.Equal(Profiles.Auto, o.Profile);
        Assert.Equal(4, o.Nodes);
        Assert.Equal(3, o.ReplicationFactor);
        Assert.Equal(8 * 1024 * 1024, o.ChunkSizeBytes);
        Assert.Equal(0, o.GatewayPort);
        Assert.Equal(2000, o.HeartbeatIntervalMs);
        Assert.Equal(15000, o.NodeDeadAfterMs);
        Assert.True(o.Dashboard);
        Assert.Equal(18888, o.DashboardPort);
        Assert.Null(o.DashboardToken);
        Assert.Equal(Dfs.Contracts.Cluster.ClusterFile.DefaultStateDirectory, o.StateDir);
        // Unset: each service keeps its own default.
        Assert.Null(o.ReplicatorReconcileIntervalMs);
        Assert.Null(o.GcGraceMs);
        Assert.Null(o.GcIntervalMs);
    }

    [Fact]
    public void Appsettings_then_environment_then_command_line()
    {
        File.WriteAllText(Path.Combine(_baseDir, "appsettings.json"),
            """{ "Dfs": { "AppHost": { "Nodes": 5, "ReplicationFactor": 2, "GatewayPort": 7000, "ResourceEnvironment": { "gateway": { "X_FROM_JSON": "1" } } } } }""");
        var environment = new Hashtable
        {
            ["DFS_APPHOST_REPLICATION_FACTOR"] = "1",
            ["Dfs__AppHost__GatewayPort"] = "7001",
            ["DFS_APPHOST_STATE_DIR"] = "/tmp/from-env",
            ["DFS_APPHOST_REPLICATOR_RECONCILE_INTERVAL_MS"] = "1234",
            ["UNRELATED"] = "9",
        };

        var o = Parse(["--gateway-port", "7002"], environment).Options!;

        Assert.Equal(5, o.Nodes);                 // appsettings.json
        Assert.Equal(1, o.ReplicationFactor);     // DFS_APPHOST_ beats appsettings.json
        Assert.Equal("/tmp/from-env", o.StateDir);
        Assert.Equal(1234, o.ReplicatorReconcileIntervalMs);
        Assert.Equal(7002, o.GatewayPort);        // the command line beats both
        Assert.Equal("1", o.ResourceEnvironment["gateway"]["X_FROM_JSON"]);
    }

    [Theory]
    [InlineData(new[] { "--nodes", "abc" }, "--nodes: 'abc' is not a whole number")]
    [InlineData(new[] { "--nodes", "0" }, "nodes must be between 1 and 64")]
    [InlineData(new[] { "--nodes" }, "--nodes needs a value")]
    [InlineData(new[] { "--profile", "cloud" }, "profile 'cloud' is not one of auto, local, embedded, external")]
    [InlineData(new[] { "--chunk-size", "lots" }, "is not a size in bytes")]
    [InlineData(new[] { "--chunk-size", "12" }, "chunk-size must be between")]
    [InlineData(new[] { "--gateway-port", "70000" }, "gateway-port must be between 0 and 65535")]
    [InlineData(new[] { "--reconcile-ms", "0" }, "reconcile interval must be at least 1 ms")]
    [InlineData(new[] { "--gc-grace-ms", "-1" }, "gc grace must not be negative")]
    [InlineData(new[] { "--gc-interval-ms", "soon" }, "--gc-interval-ms: 'soon' is not a whole number")]
    [InlineData(new[] { "--frobnicate", "1" }, "unknown option '--frobnicate'")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'")]
    public void Bad_values_are_explained(string[] args, string expected)
    {
        var command = Parse(args);
        Assert.False(command.IsValid);
        Assert.Contains(command.Errors, e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Bad_values_from_the_environment_are_explained()
    {
        var command = Parse([], new Hashtable { ["DFS_APPHOST_NODES"] = "many" });
        Assert.False(command.IsValid);
        Assert.Contains(command.Errors, e => e.Contains("Dfs:AppHost:Nodes", StringComparison.Ordinal));
    }

    [Fact]
    public void Help_is_recognised_even_with_other_switches()
    {
        Assert.True(Parse(["--nodes", "2", "--help"]).ShowHelp);
        Assert.True(Parse(["-h"]).ShowHelp);
    }

    [Theory]
    [InlineData("65536", 65536L)]
    [InlineData("8M", 8L * 1024 * 1024)]
    [InlineData("8MiB", 8L * 1024 * 1024)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("1G", 1024L * 1024 * 1024)]
    public void Sizes_accept_suffixes(string text, long bytes)
    {
        Assert.True(AppHostConfiguration.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Fact]
    public async Task The_exe_prints_help_and_exits_0()
    {
        var (code, stdout, _) = await AppHostExe.RunAsync(TestContext.Current.CancellationToken, "--help");

        Assert.Equal(0, code);
        foreach (var option in (string[])["--state-dir", "--nodes", "--profile", "--replication", "--chunk-size", "--gateway-port", "--reconcile-ms", "--gc-grace-ms", "--gc-interval-ms", "--help", "DFS_APPHOST_NODES", "DFS_APPHOST_GC_GRACE_MS", "RabbitMQ"])
            Assert.Contains(option, stdout);
    }

    [Theory]
    [InlineData("--nodes", "abc", "error: --nodes: 'abc' is not a whole number.")]
    [InlineData("--profile", "cloud", "error: profile 'cloud' is not one of auto, local, embedded, external.")]
    [InlineData("--postgres-bin-dir", "/nonexistent", "does not hold both 'postgres' and 'initdb'")]
    public async Task The_exe_exits_2_with_a_message_for_bad_values(string option, string value, string message)
    {
        var stateDir = Path.Combine(_baseDir, "state");
        var (code, stdout, stderr) = await AppHostExe.RunAsync(TestContext.Current.CancellationToken, option, value, "--state-dir", stateDir);

        Assert.Equal(2, code);
        Assert.Contains(message, stderr);
        Assert.Contains("--help", stderr);
        Assert.DoesNotContain("Dfs gateway", stdout);
        Assert.False(Directory.Exists(stateDir));
    }
}
