using System.Globalization;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dfs.AppHost.Cluster;

/// <summary>The pieces of the cluster's diagram (Program.cs), each an Aspire-style Add/With extension.</summary>
public static class DfsClusterBuilderExtensions
{
    /// <summary>
    /// The run's settings (Dfs:AppHost), every value checked before anything starts, and what runs beside DCP: restarts of
    /// crashed resources, cluster.json, the clean stop of the servers. Null (the problems printed) when a value is wrong.
    /// </summary>
    public static DfsCluster? AddDfsSettings(this IDistributedApplicationBuilder builder)
    {
        if (DfsCluster.Create(builder, Console.Out, Console.Error) is not { } cluster) return null;
        builder.Services.AddSingleton(cluster);
        // Without user secrets (this AppHost has none) Aspire's builder gives the dashboard's telemetry API a new key on every
        // run, whatever the configuration says: a key asked for is put back over it.
        if (cluster.Options.DashboardApiKey is { } apiKey) builder.Configuration["AppHost:DashboardApiKey"] = apiKey;
        if (builder.ExecutionContext.IsRunMode)
        {
            // Stopped in reverse order: the servers' clean stop runs first, before DCP stops anything.
            builder.Services.AddHostedService<ClusterFileWriter>();
            builder.Services.AddHostedService<CrashRestarter>();
            builder.Services.AddHostedService<ServerShutdown>();
        }
        // Last, so these override what the model set (tests give one resource extra settings).
        builder.Eventing.Subscribe<BeforeStartEvent>((e, _) =>
        {
            foreach (var (name, variables) in cluster.Options.ResourceEnvironment)
            {
                var resource = e.Model.Resources.OfType<IResourceWithEnvironment>().FirstOrDefault(r => r.Name == name)
                    ?? throw new DistributedApplicationException($"Dfs:AppHost:ResourceEnvironment names '{name}', which is not a resource of this cluster.");
                resource.Annotations.Add(new EnvironmentCallbackAnnotation(context =>
                {
                    foreach (var (variable, value) in variables) context.EnvironmentVariables[variable] = value;
                }));
            }
            return Task.CompletedTask;
        });
        return cluster;
    }

    /// <summary>
    /// "metadata": PostgreSQL from this machine (local), the configured server (external: ConnectionStrings:metadata), or a
    /// SQLite file in STATE/gateway (embedded).
    /// </summary>
    public static IResourceBuilder<IResourceWithConnectionString> AddMetadata(this IDistributedApplicationBuilder builder, DfsCluster cluster) =>
        cluster.Profile.Profile switch
        {
            Profiles.Local => builder.AddPostgresServer(DfsCluster.MetadataName, cluster.Profile.PostgresBinDirectory!, cluster.StateDirectory)
                .AsConnectionStringResource(),
            Profiles.External => builder.AddExternalServer(DfsCluster.MetadataName, cluster.Options.MetadataConnectionString!),
            _ => builder.AddConnectionString(DfsCluster.MetadataName,
                ReferenceExpression.Create($"Data Source={Path.Combine(cluster.StateDirectory, DfsCluster.GatewayName, "dfs.db")}")),
        };

    /// <summary>"messaging": RabbitMQ with its own epmd (local), the configured broker (external), or none: the gateway then hosts the Replicator on an in-memory bus.</summary>
    public static IResourceBuilder<IResourceWithConnectionString>? AddMessaging(this IDistributedApplicationBuilder builder, DfsCluster cluster) =>
        cluster.Profile.Profile switch
        {
            Profiles.Local => builder.AddRabbitMqServer(DfsCluster.MessagingName, cluster.Profile.RabbitMqServer!, cluster.StateDirectory).AsConnectionStringResource(),
            Profiles.External when cluster.Options.MessagingConnectionString is { } messaging => builder.AddExternalServer(DfsCluster.MessagingName, messaging),
            _ => null,
        };

    /// <summary>"cache": Redis from this machine (local), the configured one (external), or none: each gateway then caches in its own memory.</summary>
    public static IResourceBuilder<IResourceWithConnectionString>? AddCache(this IDistributedApplicationBuilder builder, DfsCluster cluster) =>
        cluster.Profile.Profile switch
        {
            Profiles.Local => builder.AddRedisServer(DfsCluster.CacheName, cluster.Profile.RedisServer!, cluster.StateDirectory).AsConnectionStringResource(),
            Profiles.External when cluster.Options.CacheConnectionString is { } cache => builder.AddExternalServer(DfsCluster.CacheName, cache),
            _ => null,
        };

    /// <summary>The first admin's password: the secret parameter admin-password, by default the state folder's generated one.</summary>
    public static IResourceBuilder<ParameterResource> AddAdminPassword(this IDistributedApplicationBuilder builder, DfsCluster cluster) =>
        builder.AddParameter("admin-password", new AdminPasswordFileDefault(cluster.AdminPasswordPath), secret: true);

    /// <summary>
    /// The key the gateways seal S3 access keys' secrets with, the same for all of them: the secret parameter
    /// access-key-master-key, by default the state folder's generated one.
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddAccessKeyMasterKey(this IDistributedApplicationBuilder builder, DfsCluster cluster) =>
        builder.AddParameter("access-key-master-key", new AccessKeyMasterKeyFileDefault(cluster.AccessKeyMasterKeyPath), secret: true);

    /// <summary>
    /// The secret every service signs internal requests with: the secret parameter cluster-secret, new for each run (a
    /// deployment manifest asks for a generated one instead of carrying this run's).
    /// </summary>
    public static IResourceBuilder<ParameterResource> AddClusterSecret(this IDistributedApplicationBuilder builder, DfsCluster cluster) =>
        builder.AddParameter("cluster-secret", new ClusterSecretDefault(cluster), secret: true);

    /// <summary>A reference to a server, and waiting until it is healthy; nothing when the profile has no such server.</summary>
    public static IResourceBuilder<ProjectResource> WithServer(this IResourceBuilder<ProjectResource> service, IResourceBuilder<IResourceWithConnectionString>? server) =>
        server is null ? service : service.WithReference(server).WaitFor(server);

    /// <summary>What every Dfs service of the run gets: the cluster secret, the gateway certificate's pin, liveness timing.</summary>
    public static IResourceBuilder<ProjectResource> WithDfsService(this IResourceBuilder<ProjectResource> service, DfsCluster cluster,
        IResourceBuilder<ParameterResource> clusterSecret)
    {
        var options = cluster.Options;
        service.WithEnvironment("Dfs__Cluster__Secret", clusterSecret)
            .WithEnvironment("Dfs__Cluster__HeartbeatIntervalMs", Invariant(options.HeartbeatIntervalMs))
            .WithEnvironment("Dfs__Cluster__NodeDeadAfterMs", Invariant(options.NodeDeadAfterMs));
        if (cluster.GatewayCertificateThumbprint is { } thumbprint) service.WithEnvironment("Dfs__Cluster__GatewayCertificateThumbprint", thumbprint);
        // Without the dashboard nothing listens for telemetry, yet Aspire still names its default OTLP endpoint: each service
        // would then spend its shutdown flushing to it until the exporter's timeout, and DCP's Stop gives up first ("Failed
        // to stop resource", state Unknown). A collector of one's own is set with ResourceEnvironment, which comes after this.
        if (!options.Dashboard)
            service.WithEnvironment(context =>
            {
                foreach (var key in context.EnvironmentVariables.Keys.Where(k => k.StartsWith("OTEL_EXPORTER_OTLP_", StringComparison.Ordinal)).ToList())
                    context.EnvironmentVariables.Remove(key);
            });
        return service;
    }

    /// <summary>
    /// Every gateway, for a service that calls them: service discovery's "gateway" lists them all (services__gateway__SCHEME__0,
    /// __1, …), so calls go round them and a retry lands on another one when one is down. Started once they are all healthy.
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithGateways(this IResourceBuilder<ProjectResource> service,
        IReadOnlyList<IResourceBuilder<ProjectResource>> gateways)
    {
        service.WithReference(gateways[0]);
        foreach (var gateway in gateways) service.WaitFor(gateway);
        for (var i = 1; i < gateways.Count; i++)
        {
            foreach (var endpoint in gateways[i].Resource.Annotations.OfType<EndpointAnnotation>())
            {
                var reference = gateways[i].GetEndpoint(endpoint.Name);
                service.WithEnvironment($"services__{gateways[0].Resource.Name}__{endpoint.Name}__{i.ToString(CultureInfo.InvariantCulture)}", reference);
            }
        }
        return service;
    }

    /// <summary>
    /// The gateway's endpoint (http, or https with --gateway-cert; a fixed port with --gateway-port), its settings (chunk
    /// size, replication factor, GC timing), the first admin's password, the access key master key, and its web console as a
    /// link on the dashboard.
    /// </summary>
    public static IResourceBuilder<ProjectResource> AsGateway(this IResourceBuilder<ProjectResource> gateway, DfsCluster cluster,
        IResourceBuilder<ParameterResource> adminPassword, IResourceBuilder<ParameterResource> accessKeyMasterKey)
    {
        var options = cluster.Options;
        // --gateway-port is the first gateway's; the others take free ports.
        int? port = options.GatewayPort == 0 || gateway.Resource.Name != DfsCluster.GatewayName ? null : options.GatewayPort;
        // Not behind DCP's proxy: every byte of every file crosses the gateway, and a proxy hop would cost a copy and a core.
        if (cluster.GatewayCertificateThumbprint is null) gateway.WithHttpEndpoint(port: port, isProxied: false);
        else gateway.WithHttpsEndpoint(port: port, isProxied: false)
            .WithEnvironment("Kestrel__Certificates__Default__Path", Path.GetFullPath(options.GatewayCertificatePath!))
            .WithEnvironment("Kestrel__Certificates__Default__Password", options.GatewayCertificatePassword ?? "");
        gateway.WithS3Endpoint(cluster);
        gateway.WithGatewayHealthCheck(cluster)
            .WithEnvironment("Dfs__Gateway__ChunkSizeBytes", Invariant(options.ChunkSizeBytes))
            .WithEnvironment("Dfs__Gateway__ReplicationFactor", Invariant(options.ReplicationFactor))
            .WithEnvironment(AdminPassword.PasswordVariable, adminPassword)
            .WithEnvironment(AccessKeyMasterKey.Variable, accessKeyMasterKey)
            .WithUrlForEndpoint(cluster.GatewayScheme, url => url.DisplayText = "API")
            .WithUrl(ReferenceExpression.Create($"{gateway.GetEndpoint(cluster.GatewayScheme)}/console"), "Console")
            .WithUrl(ReferenceExpression.Create($"{gateway.GetEndpoint(cluster.GatewayScheme)}/swagger"), "OpenAPI");
        if (options.GcGraceMs is { } grace) gateway.WithEnvironment("Dfs__Gateway__GcGraceMs", Invariant(grace));
        if (options.GcIntervalMs is { } interval) gateway.WithEnvironment("Dfs__Gateway__GcIntervalMs", Invariant(interval));
        // Without a broker the gateway hosts the Replicator, and takes its settings.
        if (cluster.Profile.Profile == Profiles.Embedded || options.MessagingConnectionString is null && cluster.Profile.Profile == Profiles.External)
            gateway.WithReplicatorSettings(cluster);
        return gateway;
    }

    /// <summary>
    /// The S3 API on a port of its own (endpoint "s3"), so that clients take its root as their endpoint URL; same scheme
    /// (and certificate) as the gateway's API, not proxied for the same reason. The gateway learns which port is S3's from
    /// Dfs__Gateway__S3Port.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithS3Endpoint(this IResourceBuilder<ProjectResource> gateway, DfsCluster cluster)
    {
        if (cluster.GatewayCertificateThumbprint is null) gateway.WithHttpEndpoint(name: DfsCluster.S3EndpointName, isProxied: false);
        else gateway.WithHttpsEndpoint(name: DfsCluster.S3EndpointName, isProxied: false);
        var s3 = gateway.GetEndpoint(DfsCluster.S3EndpointName);
        return gateway.WithEnvironment("Dfs__Gateway__S3Port", s3.Property(EndpointProperty.TargetPort))
            .WithUrlForEndpoint(DfsCluster.S3EndpointName, url => url.DisplayText = "S3");
    }

    /// <summary>
    /// The gateway's /health, trusting its certificate by the pin the services use: Aspire's HTTP health check would
    /// refuse a self-signed --gateway-cert, and everything waiting for the gateway would never start.
    /// </summary>
    private static IResourceBuilder<ProjectResource> WithGatewayHealthCheck(this IResourceBuilder<ProjectResource> gateway, DfsCluster cluster)
    {
        if (cluster.GatewayCertificateThumbprint is null) return gateway.WithHttpHealthCheck("/health", endpointName: "http");
        var endpoint = gateway.GetEndpoint("https");
        var key = gateway.Resource.Name + "_https_health";
        var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3) }.TrustPinned(cluster.GatewayCertificateThumbprint))
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        gateway.ApplicationBuilder.Services.AddHealthChecks().AddAsyncCheck(key, async ct =>
        {
            if (!endpoint.IsAllocated) return HealthCheckResult.Unhealthy("Not started yet.");
            try
            {
                using var response = await http.GetAsync(new Uri(new Uri(endpoint.Url), "/health"), ct);
                return response.IsSuccessStatusCode ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"/health answered {(int)response.StatusCode}.");
            }
            catch (HttpRequestException e)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        });
        return gateway.WithHealthCheck(key);
    }

    /// <summary>
    /// A storage node: its name, its data folder STATE/NAME, the address it registers with (its own endpoint, not behind a
    /// proxy: the gateway and the Replicator reach each node directly), and the dashboard's "Drain and remove".
    /// </summary>
    public static IResourceBuilder<ProjectResource> AsStorageNode(this IResourceBuilder<ProjectResource> node, DfsCluster cluster,
        IResourceBuilder<ProjectResource> gateway)
    {
        node.WithHttpEndpoint(isProxied: false).WithHttpHealthCheck("/health");
        var endpoint = node.GetEndpoint("http");
        return node.WithEnvironment("Dfs__StorageNode__Name", node.Resource.Name)
            .WithEnvironment("Dfs__StorageNode__DataDir", cluster.StorageNodeDataDirectory(node.Resource.Name))
            .WithEnvironment("Dfs__StorageNode__AdvertisedUrl",
                ReferenceExpression.Create($"http://{endpoint.Property(EndpointProperty.IPV4Host)}:{endpoint.Property(EndpointProperty.Port)}"))
            .WithStorageNodeCommands(cluster, gateway);
    }

    /// <summary>The Replicator as its own process: an endpoint for its health, and its settings.</summary>
    public static IResourceBuilder<ProjectResource> AsReplicator(this IResourceBuilder<ProjectResource> replicator, DfsCluster cluster) =>
        replicator.WithHttpEndpoint(isProxied: false).WithHttpHealthCheck("/health").WithReplicatorSettings(cluster);

    /// <summary>The Replicator's settings (reconcile period), for the Replicator or the gateway that hosts it.</summary>
    public static IResourceBuilder<ProjectResource> WithReplicatorSettings(this IResourceBuilder<ProjectResource> service, DfsCluster cluster)
    {
        if (cluster.Options.ReplicatorReconcileIntervalMs is { } reconcile)
            service.WithEnvironment("Dfs__Replicator__ReconcileIntervalMs", Invariant(reconcile));
        return service;
    }

    /// <summary>Declared, not started until its Start (or the gateway's "Add storage node") runs.</summary>
    public static IResourceBuilder<ProjectResource> WithExplicitStartUnless(this IResourceBuilder<ProjectResource> resource, bool startedWithCluster) =>
        startedWithCluster ? resource : resource.WithExplicitStart();

    /// <summary>A server someone else runs: its connection string from ConnectionStrings:NAME (the --metadata/--messaging/--cache value unless configured).</summary>
    private static IResourceBuilder<IResourceWithConnectionString> AddExternalServer(this IDistributedApplicationBuilder builder, string name, string connectionString)
    {
        var key = "ConnectionStrings:" + name;
        if (string.IsNullOrEmpty(builder.Configuration[key])) builder.Configuration[key] = connectionString;
        return builder.AddConnectionString(name);
    }

    private static IResourceBuilder<IResourceWithConnectionString> AsConnectionStringResource<T>(this IResourceBuilder<T> server)
        where T : IResourceWithConnectionString =>
        (IResourceBuilder<IResourceWithConnectionString>)server;

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed class ClusterSecretDefault(DfsCluster cluster) : ParameterDefault
    {
        public override string GetDefaultValue() => cluster.ClusterSecret;

        public override void WriteToManifest(Aspire.Hosting.Publishing.ManifestPublishingContext context) =>
            new GenerateParameterDefault { MinLength = 64, Special = false }.WriteToManifest(context);
    }
}
