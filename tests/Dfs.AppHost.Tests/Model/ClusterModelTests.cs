using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Dfs.AppHost.Cluster;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Security;
using Dfs.Testing;

namespace Dfs.AppHost.Tests.Model;

/// <summary>
/// The diagram Program.cs declares for each profile, read from the built (never started) model: resources, what each
/// waits for and references, and the environment each service would start with, evaluated by Aspire's own API.
/// </summary>
public sealed class ClusterModelTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static readonly string[] Services = ["gateway", "node-1", "node-2", "node-3", "replicator"];

    private Task<AppHostModel> BuildAsync(Action<DfsClusterOptions> configure)
    {
        var options = new DfsClusterOptions();
        configure(options);
        return AppHostModel.BuildAsync(options.ToArguments(_state), Ct);
    }

    [Fact]
    public async Task The_local_profile_declares_servers_services_spares_and_who_waits_for_whom()
    {
        await using var model = await BuildAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 2;
            o.SpareNodes = 1;
        });

        Assert.Equal(["metadata", "messaging-epmd", "messaging", "cache", "admin-password", "access-key-master-key", "cluster-secret", "gateway", "node-1", "node-2", "node-3", "replicator"],
            model.Names);
        Assert.IsType<PostgresServerResource>(model.Resource("metadata"));
        Assert.IsType<RabbitMqServerResource>(model.Resource("messaging"));
        Assert.IsType<EpmdResource>(model.Resource("messaging-epmd"));
        Assert.IsType<RedisServerResource>(model.Resource("cache"));
        Assert.All(Services, name => Assert.IsType<ProjectResource>(model.Resource(name)));
        Assert.True(((ParameterResource)model.Resource("cluster-secret")).Secret);
        Assert.True(((ParameterResource)model.Resource("admin-password")).Secret);
        Assert.True(((ParameterResource)model.Resource("access-key-master-key")).Secret);

        // Nothing starts before what it needs is healthy.
        Assert.Equal(["cache", "messaging", "metadata"], model.WaitsOf("gateway"));
        Assert.Equal(["gateway"], model.WaitsOf("node-1"));
        Assert.Equal(["gateway"], model.WaitsOf("node-3"));
        Assert.Equal(["gateway", "messaging"], model.WaitsOf("replicator"));
        Assert.Equal(["messaging-epmd"], model.WaitsOf("messaging"));
        Assert.Empty(model.WaitsOf("metadata"));
        Assert.Empty(model.WaitsOf("cache"));
        Assert.Equal(["cache", "messaging", "metadata"], model.ReferencesOf("gateway"));
        Assert.Equal(["gateway"], model.ReferencesOf("node-2"));
        Assert.Equal(["gateway", "messaging"], model.ReferencesOf("replicator"));

        // The spare is declared, not started; the others start with the cluster.
        Assert.True(model.Resource("node-3").TryGetLastAnnotation<ExplicitStartupAnnotation>(out _));
        Assert.All(model.Names.Where(n => n != "node-3"), n => Assert.False(model.Resource(n).TryGetLastAnnotation<ExplicitStartupAnnotation>(out _), n));

        // The dashboard's Dfs commands: drain-and-remove on every node, add-node on the gateway.
        Assert.All(["node-1", "node-2", "node-3"], n => Assert.Contains(model.Resource(n).Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == StorageNodeCommands.DrainAndRemove));
        Assert.Contains(model.Resource("gateway").Annotations.OfType<ResourceCommandAnnotation>(), c => c.Name == StorageNodeCommands.AddNode);

        // Servers and services are reached directly on loopback, never through DCP's proxy.
        Assert.All(model.Model.Resources.SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()), e => Assert.False(e.IsProxied, $"{e.Name} is proxied"));
    }

    [Fact]
    public async Task Every_service_gets_the_runs_secret_and_its_settings_and_the_servers_addresses()
    {
        await using var model = await BuildAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 2;
            o.SpareNodes = 1;
            o.ChunkSizeBytes = 2 * 1024 * 1024;
            o.ReplicationFactor = 2;
            o.HeartbeatIntervalMs = 300;
            o.NodeDeadAfterMs = 3000;
            o.ReconcileIntervalMs = 1500;
            o.GcGraceMs = 60000;
            o.GcIntervalMs = 5000;
        });
        var env = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        foreach (var name in Services) env[name] = await model.EnvironmentAsync(name, Ct);

        // One secret for the run, the same in every service (a restarted node signs like the others).
        Assert.Matches("^[0-9a-f]{64}$", model.Cluster.ClusterSecret);
        Assert.All(Services, s => Assert.Equal(model.Cluster.ClusterSecret, env[s]["Dfs__Cluster__Secret"]));
        Assert.All(Services, s => Assert.Equal(("300", "3000"), (env[s]["Dfs__Cluster__HeartbeatIntervalMs"], env[s]["Dfs__Cluster__NodeDeadAfterMs"])));
        Assert.All(Services, s => Assert.False(env[s].ContainsKey("Dfs__Cluster__GatewayCertificateThumbprint"), s));

        var gateway = env["gateway"];
        Assert.Equal("2097152", gateway["Dfs__Gateway__ChunkSizeBytes"]);
        Assert.Equal("2", gateway["Dfs__Gateway__ReplicationFactor"]);
        Assert.Equal(("60000", "5000"), (gateway["Dfs__Gateway__GcGraceMs"], gateway["Dfs__Gateway__GcIntervalMs"]));
        Assert.Equal(DfsClusterOptions.AdminPassword, gateway[AdminPassword.PasswordVariable]);
        Assert.Equal($"Host=127.0.0.1;Port={model.Port("metadata", "tcp")};Username=postgres;Database=dfs", gateway["ConnectionStrings__metadata"]);
        Assert.Equal($"amqp://guest:guest@127.0.0.1:{model.Port("messaging", "tcp")}/", gateway["ConnectionStrings__messaging"]);
        Assert.Equal($"127.0.0.1:{model.Port("cache", "tcp")}", gateway["ConnectionStrings__cache"]);
        // The Replicator runs as its own process: its settings are not the gateway's.
        Assert.False(gateway.ContainsKey("Dfs__Replicator__ReconcileIntervalMs"));

        var gatewayUrl = $"http://localhost:{model.Port("gateway", "http")}";
        foreach (var node in (string[])["node-1", "node-2", "node-3"])
        {
            var e = env[node];
            Assert.Equal(node, e["Dfs__StorageNode__Name"]);
            Assert.Equal(Path.Combine(_state, node), e["Dfs__StorageNode__DataDir"]);
            Assert.Equal($"http://127.0.0.1:{model.Port(node, "http")}", e["Dfs__StorageNode__AdvertisedUrl"]);
            Assert.Equal(gatewayUrl, e["services__gateway__http__0"]);
            Assert.False(e.ContainsKey("ConnectionStrings__metadata"), $"{node} does not talk to the metadata store");
            Assert.False(e.ContainsKey("Dfs__Gateway__ChunkSizeBytes"));
        }
        Assert.Equal(3, Services.Where(s => s.StartsWith("node-", StringComparison.Ordinal)).Select(n => env[n]["Dfs__StorageNode__AdvertisedUrl"]).Distinct().Count());

        var replicator = env["replicator"];
        Assert.Equal(gateway["ConnectionStrings__messaging"], replicator["ConnectionStrings__messaging"]);
        Assert.Equal(gatewayUrl, replicator["services__gateway__http__0"]);
        Assert.Equal("1500", replicator["Dfs__Replicator__ReconcileIntervalMs"]);
        Assert.False(replicator.ContainsKey("ConnectionStrings__metadata"));
    }

    [Fact]
    public async Task Three_gateways_share_the_servers_and_every_service_that_calls_a_gateway_is_given_all_three()
    {
        await using var model = await BuildAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 2;
            o.Gateways = 3;
            o.GatewayPort = 0;
        });
        Assert.Equal(["metadata", "messaging-epmd", "messaging", "cache", "admin-password", "access-key-master-key", "cluster-secret", "gateway", "gateway-2", "gateway-3", "node-1", "node-2", "replicator"],
            model.Names);
        // The first gateway migrates the metadata and creates the first admin; the others start once it is healthy.
        Assert.Equal(["cache", "gateway", "messaging", "metadata"], model.WaitsOf("gateway-2"));
        Assert.Equal(["cache", "gateway", "messaging", "metadata"], model.WaitsOf("gateway-3"));
        Assert.Equal(["gateway", "gateway-2", "gateway-3"], model.WaitsOf("node-1"));
        Assert.Equal(["gateway", "gateway-2", "gateway-3", "messaging"], model.WaitsOf("replicator"));

        var first = await model.EnvironmentAsync("gateway", Ct);
        var third = await model.EnvironmentAsync("gateway-3", Ct);
        Assert.Equal(first["ConnectionStrings__metadata"], third["ConnectionStrings__metadata"]);
        Assert.Equal(first["ConnectionStrings__cache"], third["ConnectionStrings__cache"]);
        // One access key master key for all: a key created through one gateway is checked by any other.
        Assert.Matches("^[0-9a-f]{64}$", first[AccessKeyMasterKey.Variable]);
        Assert.Equal(first[AccessKeyMasterKey.Variable], third[AccessKeyMasterKey.Variable]);
        Assert.Equal(first[AccessKeyMasterKey.Variable], (await model.EnvironmentAsync("gateway-2", Ct))[AccessKeyMasterKey.Variable]);
        Assert.False((await model.EnvironmentAsync("node-1", Ct)).ContainsKey(AccessKeyMasterKey.Variable));
        Assert.Equal(3, new[] { "gateway", "gateway-2", "gateway-3" }.Select(g => model.Port(g, "http")).Distinct().Count());

        // Service discovery's "gateway" lists the three, in order: a retry moves on to the next one.
        foreach (var service in (string[])["node-1", "node-2", "replicator"])
        {
            var env = await model.EnvironmentAsync(service, Ct);
            Assert.Equal($"http://localhost:{model.Port("gateway", "http")}", env["services__gateway__http__0"]);
            Assert.Equal($"http://localhost:{model.Port("gateway-2", "http")}", env["services__gateway__http__1"]);
            Assert.Equal($"http://localhost:{model.Port("gateway-3", "http")}", env["services__gateway__http__2"]);
        }
    }

    [Fact]
    public async Task Resource_environment_overrides_land_last_and_only_on_their_resource()
    {
        await using var model = await BuildAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 2;
            o.HeartbeatIntervalMs = 300;
            o.ResourceEnvironment["node-2"] = new() { ["Dfs__Cluster__HeartbeatIntervalMs"] = "999", ["EXTRA_FROM_OPTIONS"] = "yes" };
            o.ResourceEnvironment["gateway"] = new() { ["ConnectionStrings__cache"] = "elsewhere:6379" };
        });

        var node1 = await model.EnvironmentAsync("node-1", Ct);
        var node2 = await model.EnvironmentAsync("node-2", Ct);
        var gateway = await model.EnvironmentAsync("gateway", Ct);

        Assert.Equal("999", node2["Dfs__Cluster__HeartbeatIntervalMs"]);
        Assert.Equal("yes", node2["EXTRA_FROM_OPTIONS"]);
        Assert.Equal("300", node1["Dfs__Cluster__HeartbeatIntervalMs"]);
        Assert.False(node1.ContainsKey("EXTRA_FROM_OPTIONS"));
        // Even what a reference set (the connection string) yields to the override.
        Assert.Equal("elsewhere:6379", gateway["ConnectionStrings__cache"]);
    }

    [Fact]
    public async Task An_override_for_a_resource_that_does_not_exist_is_refused_at_start()
    {
        await using var model = await BuildAsync(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 1;
            o.ResourceEnvironment["node-9"] = new() { ["X"] = "1" };
        });

        var e = await Assert.ThrowsAsync<DistributedApplicationException>(() => model.PublishBeforeStartAsync(Ct));
        Assert.Equal("Dfs:AppHost:ResourceEnvironment names 'node-9', which is not a resource of this cluster.", e.Message);
    }

    [Fact]
    public async Task The_embedded_profile_has_no_servers_and_the_gateway_hosts_the_replicator()
    {
        await using var model = await BuildAsync(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 1;
            o.ReconcileIntervalMs = 1500;
        });

        Assert.Equal(["metadata", "admin-password", "access-key-master-key", "cluster-secret", "gateway", "node-1"], model.Names);
        Assert.IsType<ConnectionStringResource>(model.Resource("metadata"));
        Assert.Equal(["metadata"], model.WaitsOf("gateway"));
        Assert.Equal(["metadata"], model.ReferencesOf("gateway"));
        var gateway = await model.EnvironmentAsync("gateway", Ct);
        Assert.Equal($"Data Source={Path.Combine(_state, "gateway", "dfs.db")}", gateway["ConnectionStrings__metadata"]);
        Assert.False(gateway.ContainsKey("ConnectionStrings__messaging"));
        Assert.False(gateway.ContainsKey("ConnectionStrings__cache"));
        Assert.Equal("1500", gateway["Dfs__Replicator__ReconcileIntervalMs"]);
        Assert.Equal(model.Cluster.ClusterSecret, (await model.EnvironmentAsync("node-1", Ct))["Dfs__Cluster__Secret"]);
    }

    [Fact]
    public async Task The_external_profile_uses_the_given_servers_and_runs_the_replicator_only_with_a_broker()
    {
        const string metadata = "Host=db.example;Port=5433;Database=files;Username=dfs;Password=secret";
        await using (var withBroker = await BuildAsync(o =>
                     {
                         o.Profile = "external";
                         o.Nodes = 1;
                         o.ReconcileIntervalMs = 1500;
                         o.ExtraArguments.AddRange(["--metadata", metadata, "--messaging", "amqp://u:p@mq.example:5672/", "--cache", "cache.example:6379"]);
                     }))
        {
            Assert.Equal(["metadata", "messaging", "cache", "admin-password", "access-key-master-key", "cluster-secret", "gateway", "node-1", "replicator"], withBroker.Names);
            Assert.Equal(["cache", "messaging", "metadata"], withBroker.WaitsOf("gateway"));
            var gateway = await withBroker.EnvironmentAsync("gateway", Ct);
            Assert.Equal(metadata, gateway["ConnectionStrings__metadata"]);
            Assert.Equal("amqp://u:p@mq.example:5672/", gateway["ConnectionStrings__messaging"]);
            Assert.Equal("cache.example:6379", gateway["ConnectionStrings__cache"]);
            Assert.False(gateway.ContainsKey("Dfs__Replicator__ReconcileIntervalMs"));
            Assert.Equal("1500", (await withBroker.EnvironmentAsync("replicator", Ct))["Dfs__Replicator__ReconcileIntervalMs"]);
        }

        await using var withoutBroker = await BuildAsync(o =>
        {
            o.Profile = "external";
            o.Nodes = 1;
            o.ReconcileIntervalMs = 1500;
            o.ExtraArguments.AddRange(["--metadata", metadata]);
        });
        Assert.Equal(["metadata", "admin-password", "access-key-master-key", "cluster-secret", "gateway", "node-1"], withoutBroker.Names);
        Assert.Equal("1500", (await withoutBroker.EnvironmentAsync("gateway", Ct))["Dfs__Replicator__ReconcileIntervalMs"]);
    }

    [Fact]
    public async Task A_gateway_certificate_gives_an_https_gateway_and_its_pin_to_every_service()
    {
        const string password = "pfx-password";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=dfs-model-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(_state, "gateway.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, password), Ct);
        var thumbprint = CertificatePinning.Sha256Thumbprint(certificate);

        await using var model = await BuildAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 1;
            o.ExtraArguments.AddRange(["--gateway-cert", pfx, "--gateway-cert-password", password]);
        });

        Assert.Equal(thumbprint, model.Cluster.GatewayCertificateThumbprint);
        Assert.Equal("https", model.Cluster.GatewayScheme);
        var gatewayEndpoints = model.Resource("gateway").Annotations.OfType<EndpointAnnotation>().ToList();
        // The API and the S3 API, both HTTPS only (one certificate).
        Assert.Equal(["https", "s3"], gatewayEndpoints.Select(e => e.Name));
        Assert.All(gatewayEndpoints, e => Assert.Equal("https", e.UriScheme));
        Assert.Equal(["http"], model.Resource("node-1").Annotations.OfType<EndpointAnnotation>().Select(e => e.UriScheme));

        foreach (var service in (string[])["gateway", "node-1", "replicator"])
            Assert.Equal(thumbprint, (await model.EnvironmentAsync(service, Ct))["Dfs__Cluster__GatewayCertificateThumbprint"]);
        var gateway = await model.EnvironmentAsync("gateway", Ct);
        Assert.Equal(Path.GetFullPath(pfx), gateway["Kestrel__Certificates__Default__Path"]);
        Assert.Equal(password, gateway["Kestrel__Certificates__Default__Password"]);
        var node = await model.EnvironmentAsync("node-1", Ct);
        Assert.Equal($"https://localhost:{model.Port("gateway", "https")}", node["services__gateway__https__0"]);
        Assert.False(node.ContainsKey("services__gateway__http__0"));
        Assert.Equal($"https://localhost:{model.Port("gateway", "https")}", (await model.EnvironmentAsync("replicator", Ct))["services__gateway__https__0"]);
        // The node itself stays plain HTTP on loopback.
        Assert.StartsWith("http://127.0.0.1:", node["Dfs__StorageNode__AdvertisedUrl"]);
    }

    [Fact]
    public async Task Telemetry_goes_to_the_dashboard_and_nowhere_without_one()
    {
        // Without the dashboard: no OTLP endpoint (nothing listens there, and a service would spend its stop flushing to it).
        await using (var model = await BuildAsync(o => o.Profile = "embedded"))
        {
            var node = await model.EnvironmentAsync("node-1", Ct);
            Assert.DoesNotContain(node.Keys, k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal));
            // Aspire's OTLP settings were there (the service name, a DCP template); only the exporter's went.
            Assert.Contains("otel-service-name", node["OTEL_SERVICE_NAME"]);
        }
        // ... unless one is named for a service: the override comes last.
        await using (var model = await BuildAsync(o =>
                     {
                         o.Profile = "embedded";
                         o.ResourceEnvironment["gateway"] = new() { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:4317" };
                     }))
            Assert.Equal("http://127.0.0.1:4317", (await model.EnvironmentAsync("gateway", Ct))["OTEL_EXPORTER_OTLP_ENDPOINT"]);

        // With the dashboard: its OTLP endpoint, on a loopback port the AppHost picks.
        var args = new DfsClusterOptions { Profile = "embedded" }.ToArguments(_state).Where(a => a != "--no-dashboard").ToList();
        await using var withDashboard = await AppHostModel.BuildAsync(args, Ct, dashboard: true);
        var gateway = await withDashboard.EnvironmentAsync("gateway", Ct);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", gateway["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        Assert.Equal("grpc", gateway["OTEL_EXPORTER_OTLP_PROTOCOL"]);
    }

    [Fact]
    public async Task The_first_admins_password_is_generated_once_per_state_folder_and_kept_owner_only()
    {
        // Without Parameters:admin-password (the test options always give one).
        var args = new DfsClusterOptions { Profile = "embedded" }.ToArguments(_state).Where(a => !a.StartsWith("--Parameters:", StringComparison.Ordinal)).ToList();
        var file = Dfs.Contracts.Cluster.AdminPasswordFile.PathIn(_state);
        Assert.False(File.Exists(file));

        string password;
        await using (var model = await AppHostModel.BuildAsync(args, Ct))
            password = (await model.EnvironmentAsync("gateway", Ct))[AdminPassword.PasswordVariable];
        Assert.Matches("^[A-Za-z2-9]{24}$", password);
        Assert.Equal(password + "\n", await File.ReadAllTextAsync(file, Ct));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

        // The next run keeps it (the gateway's database keeps that admin); a file others could read is made owner-only.
        File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        await using (var again = await AppHostModel.BuildAsync(args, Ct))
            Assert.Equal(password, (await again.EnvironmentAsync("gateway", Ct))[AdminPassword.PasswordVariable]);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));

        // A configured one wins, and the file is left alone.
        await using (var configured = await AppHostModel.BuildAsync([.. args, "--Parameters:admin-password=chosen-password-1"], Ct))
            Assert.Equal("chosen-password-1", (await configured.EnvironmentAsync("gateway", Ct))[AdminPassword.PasswordVariable]);
        Assert.Equal(password + "\n", await File.ReadAllTextAsync(file, Ct));
    }

    [Fact]
    public async Task The_servers_listen_on_loopback_ports_aspire_allocates()
    {
        await using var model = await BuildAsync(o => o.Profile = "local");

        var postgres = await model.ArgumentsAsync("metadata", Ct);
        Assert.Contains("listen_addresses=127.0.0.1", postgres);
        Assert.Equal(model.Port("metadata", "tcp").ToString(System.Globalization.CultureInfo.InvariantCulture), postgres[postgres.ToList().IndexOf("-p") + 1]);
        var redis = await model.ArgumentsAsync("cache", Ct);
        Assert.Equal("127.0.0.1", redis[redis.ToList().IndexOf("--bind") + 1]);
        Assert.Equal(model.Port("cache", "tcp").ToString(System.Globalization.CultureInfo.InvariantCulture), redis[redis.ToList().IndexOf("--port") + 1]);
        var epmd = await model.ArgumentsAsync("messaging-epmd", Ct);
        Assert.Equal(["-port", model.Port("messaging-epmd", "tcp").ToString(System.Globalization.CultureInfo.InvariantCulture), "-address", "127.0.0.1"], epmd);
        var broker = await model.EnvironmentAsync("messaging", Ct);
        Assert.Equal("127.0.0.1", broker["RABBITMQ_NODE_IP_ADDRESS"]);
        Assert.Equal("127.0.0.1", broker["ERL_EPMD_ADDRESS"]);
        Assert.Equal(model.Port("messaging-epmd", "tcp").ToString(System.Globalization.CultureInfo.InvariantCulture), broker["ERL_EPMD_PORT"]);
        Assert.Contains("inet_dist_use_interface {127,0,0,1}", broker["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]);
        Assert.Contains("-start_epmd false", broker["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]);
        Assert.Matches("^dfs-[0-9a-f]{12}@localhost$", broker["RABBITMQ_NODENAME"]);
    }
}
