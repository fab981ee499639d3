using System.Net;
using System.Net.Sockets;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Cluster;
using Dfs.AppHost.Tests.Support;
using Microsoft.Extensions.Configuration;

namespace Dfs.AppHost.Tests.Settings;

/// <summary>The AppHost's switches as Aspire configuration, their checks, and the help that names them.</summary>
public sealed class CommandLineTests
{
    private static string Setting(string name, string value) => $"--{DfsAppHostOptions.SectionName}:{name}={value}";

    [Fact]
    public void Every_switch_becomes_its_setting_in_Aspire_configuration()
    {
        var parsed = DfsCommandLine.Parse([
            "--state-dir", "/tmp/x", "--nodes", "3", "--spare-nodes=1", "--gateways", "2", "--profile", "embedded", "--replication", "2", "--chunk-size", "1M",
            "--gateway-port=5123", "--heartbeat-ms", "300", "--node-dead-after-ms", "2000", "--reconcile-ms", "750", "--gc-grace-ms", "0",
            "--gc-interval-ms", "400", "--postgres-bin-dir", "/opt/pg/bin", "--dashboard-port", "0", "--no-dashboard", "--no-restart",
            "--gateway-cert", "/tmp/g.pfx", "--gateway-cert-password", "pw", "--dashboard-api-key", "0123456789abcdef",
        ]);

        Assert.Empty(parsed.Errors);
        Assert.False(parsed.ShowHelp);
        Assert.Equal(
        [
            Setting("StateDir", "/tmp/x"), Setting("Nodes", "3"), Setting("SpareNodes", "1"), Setting("Gateways", "2"), Setting("Profile", "embedded"),
            Setting("ReplicationFactor", "2"), Setting("ChunkSizeBytes", "1048576"), Setting("GatewayPort", "5123"),
            Setting("HeartbeatIntervalMs", "300"), Setting("NodeDeadAfterMs", "2000"), Setting("ReplicatorReconcileIntervalMs", "750"),
            Setting("GcGraceMs", "0"), Setting("GcIntervalMs", "400"), Setting("PostgresBinDir", "/opt/pg/bin"), Setting("DashboardPort", "0"),
            Setting("Dashboard", "false"), Setting("RestartCrashed", "false"), Setting("GatewayCertificatePath", "/tmp/g.pfx"),
            Setting("GatewayCertificatePassword", "pw"), Setting("DashboardApiKey", "0123456789abcdef"),
        ], parsed.AspireArgs);
        // Every switch there is was given above or in the next test: a new switch needs a line here too.
        Assert.Equal(DfsCommandLine.Switches.Count - 3, parsed.AspireArgs.Count); // --metadata, --messaging and --cache: the next test
    }

    [Fact]
    public void External_connection_switches_set_their_settings()
    {
        var parsed = DfsCommandLine.Parse(["--profile", "external", "--metadata", "Host=db;Database=dfs;Username=u;Password=p",
            "--messaging", "amqp://u:p@mq:5672/", "--cache", "redis:6379,password=x"]);

        Assert.Empty(parsed.Errors);
        Assert.Contains(Setting("MetadataConnectionString", "Host=db;Database=dfs;Username=u;Password=p"), parsed.AspireArgs);
        Assert.Contains(Setting("MessagingConnectionString", "amqp://u:p@mq:5672/"), parsed.AspireArgs);
        Assert.Contains(Setting("CacheConnectionString", "redis:6379,password=x"), parsed.AspireArgs);
    }

    [Fact]
    public void Configuration_and_Aspire_switches_pass_through_unchanged()
    {
        var parsed = DfsCommandLine.Parse(["--publisher", "manifest", "--output-path", "/tmp/m.json", "--Parameters:admin-password=secret-pw",
            "--AppHost:DashboardApiKey=key", "--Dfs:AppHost:ResourceEnvironment:gateway:X=1"]);

        Assert.Empty(parsed.Errors);
        Assert.Equal(["--publisher", "manifest", "--output-path", "/tmp/m.json", "--Parameters:admin-password=secret-pw", "--AppHost:DashboardApiKey=key",
            "--Dfs:AppHost:ResourceEnvironment:gateway:X=1"], parsed.AspireArgs);
    }

    [Theory]
    [InlineData(new[] { "--nodes", "abc" }, "--nodes: 'abc' is not a whole number.")]
    [InlineData(new[] { "--nodes" }, "--nodes needs a value (N).")]
    [InlineData(new[] { "--nodes", "--profile", "local" }, "--nodes needs a value (N).")]
    [InlineData(new[] { "--chunk-size", "lots" }, "--chunk-size: 'lots' is not a size in bytes (like 8388608, 8M or 512K).")]
    [InlineData(new[] { "--chunk-size", "1.5M" }, "--chunk-size: '1.5M' is not a size in bytes (like 8388608, 8M or 512K).")]
    [InlineData(new[] { "--gc-interval-ms", "soon" }, "--gc-interval-ms: 'soon' is not a whole number.")]
    [InlineData(new[] { "--no-dashboard=yes" }, "--no-dashboard takes no value.")]
    [InlineData(new[] { "--state-dir=" }, "--state-dir must not be empty.")]
    [InlineData(new[] { "--frobnicate", "1" }, "unknown option '--frobnicate'.")]
    [InlineData(new[] { "stray" }, "unexpected argument 'stray'.")]
    public void Malformed_switches_are_explained(string[] args, string expected)
    {
        var parsed = DfsCommandLine.Parse(args);
        Assert.Contains(expected, parsed.Errors);
    }

    [Fact]
    public void Help_is_recognised_among_other_switches()
    {
        Assert.True(DfsCommandLine.Parse(["--nodes", "2", "--help"]).ShowHelp);
        Assert.True(DfsCommandLine.Parse(["-h"]).ShowHelp);
        Assert.True(DfsCommandLine.Parse(["-?"]).ShowHelp);
        Assert.False(DfsCommandLine.Parse(["--nodes", "2"]).ShowHelp);
    }

    [Fact]
    public void Help_lists_every_switch_with_its_value_and_its_setting()
    {
        var help = DfsCommandLine.HelpText();

        foreach (var option in DfsCommandLine.Switches)
        {
            Assert.Contains(option.ValueName.Length > 0 ? $"  {option.Name} {option.ValueName}\n" : $"  {option.Name}\n", help.ReplaceLineEndings("\n"));
            Assert.Contains(option.Description, help);
            Assert.Contains("Dfs__AppHost__" + option.Setting, help);
        }
        Assert.Contains("--help", help);
        Assert.Contains("Exit codes: 0 stopped normally, 2 invalid options.", help);
    }

    [Theory]
    [InlineData("65536", 65536L)]
    [InlineData("8M", 8L * 1024 * 1024)]
    [InlineData("8MiB", 8L * 1024 * 1024)]
    [InlineData("512k", 512L * 1024)]
    [InlineData("512KiB", 512L * 1024)]
    [InlineData(" 4K ", 4096L)]
    [InlineData("1G", 1024L * 1024 * 1024)]
    public void Sizes_accept_binary_suffixes(string text, long bytes)
    {
        Assert.True(DfsCommandLine.TryParseSize(text, out var parsed));
        Assert.Equal(bytes, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("M")]
    [InlineData("-1")]
    [InlineData("1.5M")]
    [InlineData("8MB")]
    [InlineData("99999999999999999999")]
    [InlineData("9999999999999G")]
    public void Sizes_that_are_not_sizes_are_refused(string text) => Assert.False(DfsCommandLine.TryParseSize(text, out _));

    [Fact]
    public void The_defaults_are_valid_and_appsettings_json_says_the_same()
    {
        var defaults = new DfsAppHostOptions();
        Assert.Empty(defaults.Validate());
        Assert.Equal((Profiles.Auto, 4, 2, 3, 8L * 1024 * 1024, 0, 2000, 15000, true, 18888, true),
            (defaults.Profile, defaults.Nodes, defaults.SpareNodes, defaults.ReplicationFactor, defaults.ChunkSizeBytes, defaults.GatewayPort,
                defaults.HeartbeatIntervalMs, defaults.NodeDeadAfterMs, defaults.Dashboard, defaults.DashboardPort, defaults.RestartCrashed));
        Assert.Equal(ClusterFile.DefaultStateDirectory, defaults.StateDir);
        Assert.Null(defaults.DashboardApiKey);
        // Unset: each service keeps its own default.
        Assert.Null(defaults.ReplicatorReconcileIntervalMs);
        Assert.Null(defaults.GcGraceMs);
        Assert.Null(defaults.GcIntervalMs);

        // The shipped appsettings.json, which the docs show, must not contradict the code's defaults.
        var shipped = new DfsAppHostOptions();
        new ConfigurationBuilder().AddJsonFile(Path.Combine(Procs.RepositoryRoot(), "src", "Dfs.AppHost", "appsettings.json")).Build()
            .GetSection(DfsAppHostOptions.SectionName).Bind(shipped);
        Assert.Equivalent(defaults, shipped, strict: true);
    }

    [Fact]
    public void The_shared_limits_are_the_ones_the_gateway_and_nodes_check()
    {
        // Exactly at the limits: accepted.
        Assert.Empty(new DfsAppHostOptions
        {
            ChunkSizeBytes = SharedSettings.MinChunkSizeBytes, ReplicationFactor = SharedSettings.MaxReplicationFactor,
            HeartbeatIntervalMs = SharedSettings.MinHeartbeatIntervalMs, NodeDeadAfterMs = SharedSettings.MinNodeDeadAfterMs,
        }.Validate());
        Assert.Empty(new DfsAppHostOptions
        {
            ChunkSizeBytes = SharedSettings.MaxChunkSizeBytes, ReplicationFactor = SharedSettings.MinReplicationFactor,
            HeartbeatIntervalMs = SharedSettings.MaxHeartbeatIntervalMs, NodeDeadAfterMs = SharedSettings.MaxNodeDeadAfterMs,
        }.Validate());

        // One past each: refused, with the sentence SharedSettings words for the gateway's own check.
        var beyond = new DfsAppHostOptions
        {
            ChunkSizeBytes = SharedSettings.MaxChunkSizeBytes + 1, ReplicationFactor = SharedSettings.MaxReplicationFactor + 1,
            HeartbeatIntervalMs = SharedSettings.MinHeartbeatIntervalMs - 1, NodeDeadAfterMs = SharedSettings.MaxNodeDeadAfterMs + 1,
        };
        var expected = SharedSettings.Validate(beyond.ChunkSizeBytes, beyond.ReplicationFactor, beyond.HeartbeatIntervalMs, beyond.NodeDeadAfterMs);
        Assert.Equal(4, expected.Count);
        Assert.Equal(expected, beyond.Validate());
        Assert.Contains("chunk-size must be between 4K and 64M (got 67108865 bytes).", expected);
        Assert.Contains("replication must be between 1 and 16 (got 17).", expected);
        Assert.Contains("heartbeat-ms must be between 50 and 60000 (got 49).", expected);
        Assert.Contains("node-dead-after-ms must be between 100 and 3600000 (got 3600001).", expected);

        Assert.Equal(["node-dead-after-ms (2000) must be longer than the heartbeat interval (2000)."],
            new DfsAppHostOptions { HeartbeatIntervalMs = 2000, NodeDeadAfterMs = 2000 }.Validate());
    }

    [Theory]
    [InlineData("Profile", "cloud", "profile 'cloud' is not one of auto, local, embedded, external.")]
    [InlineData("Nodes", "-1", "nodes must be between 0 and 64 (got -1).")]
    [InlineData("Nodes", "65", "nodes must be between 0 and 64 (got 65).")]
    [InlineData("SpareNodes", "17", "spare-nodes must be between 0 and 16 (got 17).")]
    [InlineData("GatewayPort", "70000", "gateway-port must be between 0 and 65535 (got 70000).")]
    [InlineData("DashboardPort", "-1", "dashboard-port must be between 0 and 65535 (got -1).")]
    [InlineData("ReplicatorReconcileIntervalMs", "99", "reconcile-ms must be at least 100 (got 99).")]
    [InlineData("GcGraceMs", "-1", "gc-grace-ms must not be negative (got -1).")]
    [InlineData("GcIntervalMs", "50", "gc-interval-ms must be at least 100 (got 50).")]
    [InlineData("StateDir", " ", "state-dir must not be empty.")]
    [InlineData("GatewayCertificatePassword", "pw", "a gateway certificate password was given without a certificate (--gateway-cert PATH).")]
    [InlineData("MessagingConnectionString", "amqp://mq/", "a messaging or cache connection string was given without a metadata connection string (--metadata).")]
    [InlineData("DrainTimeout", "00:00:00", "DrainTimeout must be positive.")]
    [InlineData("DashboardApiKey", "too-short", "dashboard-api-key must be at least 16 characters long.")]
    public void Values_out_of_range_are_explained(string setting, string value, string expected)
    {
        var options = new DfsAppHostOptions();
        new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [$"{DfsAppHostOptions.SectionName}:{setting}"] = value })
            .Build().GetSection(DfsAppHostOptions.SectionName).Bind(options);

        Assert.Equal([expected], options.Validate());
    }

    [Fact]
    public void Profiles_and_connection_strings_must_agree()
    {
        Assert.Contains("profile external needs the metadata connection string (--metadata \"Host=…;Database=…;Username=…;Password=…\").",
            new DfsAppHostOptions { Profile = Profiles.External }.Validate());
        Assert.Contains("profile local runs its own metadata store, messaging and cache; connection strings are for --profile external (or auto).",
            new DfsAppHostOptions { Profile = Profiles.Local, MetadataConnectionString = "Host=db" }.Validate());
        Assert.Contains("profile embedded runs its own metadata store, messaging and cache; connection strings are for --profile external (or auto).",
            new DfsAppHostOptions { Profile = Profiles.Embedded, CacheConnectionString = "redis:6379", MetadataConnectionString = "Host=db" }.Validate());
        Assert.Empty(new DfsAppHostOptions { Profile = Profiles.Auto, MetadataConnectionString = "Host=db", CacheConnectionString = "redis:6379" }.Validate());
    }

    [Fact]
    public void The_dashboard_gets_the_asked_port_on_loopback_or_a_free_one_when_it_is_taken()
    {
        // What the environment sets wins over the switches: keep this test to the switches alone.
        using var _ = new EnvironmentScope("ASPNETCORE_URLS", "ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL", "DOTNET_DASHBOARD_OTLP_ENDPOINT_URL", "Dfs__AppHost__DashboardPort",
            "Dfs__AppHost__Dashboard");
        int free;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            free = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var asked = DfsCommandLine.AspireOptions(DfsCommandLine.Parse(["--dashboard-port", free.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        Assert.False(asked.DisableDashboard);
        Assert.Contains($"--ASPNETCORE_URLS=http://127.0.0.1:{free}", asked.Args!);
        Assert.Contains("--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true", asked.Args!);
        Assert.Single(asked.Args!, a => a.StartsWith("--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://127.0.0.1:", StringComparison.Ordinal));

        using var squatter = new TcpListener(IPAddress.Loopback, free);
        squatter.Start();
        var taken = DfsCommandLine.AspireOptions(DfsCommandLine.Parse(["--dashboard-port", free.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
        var url = Assert.Single(taken.Args!, a => a.StartsWith("--ASPNETCORE_URLS=http://127.0.0.1:", StringComparison.Ordinal));
        Assert.NotEqual($"--ASPNETCORE_URLS=http://127.0.0.1:{free}", url);

        var none = DfsCommandLine.AspireOptions(DfsCommandLine.Parse(["--no-dashboard", "--nodes", "2"]));
        Assert.True(none.DisableDashboard);
        Assert.DoesNotContain(none.Args!, a => a.StartsWith("--ASPNETCORE_URLS", StringComparison.Ordinal));
        Assert.Contains(Setting("Nodes", "2"), none.Args!);
    }

    /// <summary>Clears environment variables for a test and puts them back after it.</summary>
    private sealed class EnvironmentScope : IDisposable
    {
        private readonly Dictionary<string, string?> _saved;

        public EnvironmentScope(params string[] names)
        {
            _saved = names.ToDictionary(n => n, Environment.GetEnvironmentVariable);
            foreach (var name in names) Environment.SetEnvironmentVariable(name, null);
        }

        public void Dispose()
        {
            foreach (var (name, value) in _saved) Environment.SetEnvironmentVariable(name, value);
        }
    }
}
