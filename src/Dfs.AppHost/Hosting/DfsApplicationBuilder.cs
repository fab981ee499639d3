using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Security;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dfs.AppHost.Hosting;

/// <summary>
/// The model of a Dfs cluster before it runs: resources, their wiring and the settings, in the shape of
/// Aspire's DistributedApplicationBuilder. <see cref="Create"/> composes the standard cluster for the
/// profile; <see cref="CreateEmpty"/> starts from nothing (tests of single resources).
/// </summary>
public sealed class DfsApplicationBuilder
{
    private readonly object _gate = new();
    private readonly List<ProcessResource> _resources = [];
    private readonly Dictionary<string, string> _connectionStrings = new(StringComparer.Ordinal);
    private readonly ILogger _logger;
    private string? _adminPassword;

    private DfsApplicationBuilder(DfsAppHostOptions options, ILoggerFactory? loggerFactory)
    {
        var errors = options.Validate();
        if (errors.Count > 0) throw new AppHostConfigurationException(string.Join(" ", errors));
        Options = options;
        LoggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _logger = LoggerFactory.CreateLogger("Dfs.AppHost");
        StateDirectory = Path.GetFullPath(options.StateDir);
        Profile = ProfileDetector.Resolve(options.Profile, options.PostgresBinDir,
            metadataConnectionString: options.MetadataConnectionString, messagingConnectionString: options.MessagingConnectionString);
        _logger.LogInformation("{ProfileLine}", Profile.Message);
        ClusterSecret = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        if (options.GatewayCertificatePath is { } certificate)
            GatewayCertificateThumbprint = ReadCertificateThumbprint(certificate, options.GatewayCertificatePassword);
        var probeHandler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2), PooledConnectionIdleTimeout = TimeSpan.FromSeconds(10) }
            .TrustPinned(GatewayCertificateThumbprint);
        var probeClient = new HttpClient(probeHandler)
        {
            Timeout = TimeSpan.FromSeconds(5),
        };
        Context = new ResourceContext(options, StateDirectory, LoggerFactory, probeClient);
    }

    public DfsAppHostOptions Options { get; }

    /// <summary>The profile in use (auto resolved) and why.</summary>
    public ProfileChoice Profile { get; }

    /// <summary>Absolute StateDir.</summary>
    public string StateDirectory { get; }

    public ILoggerFactory LoggerFactory { get; }

    /// <summary>
    /// Shared by the services of this run as Dfs__Cluster__Secret (they sign internal requests with it). One per builder,
    /// so a resource restarted by this AppHost gets the same value as the ones still running.
    /// </summary>
    public string ClusterSecret { get; }

    /// <summary>SHA-256 of the gateway's HTTPS certificate (Dfs__Cluster__GatewayCertificateThumbprint); null: plain HTTP.</summary>
    public string? GatewayCertificateThumbprint { get; }

    /// <summary>
    /// The gateway's first admin ("admin") password, kept in STATE/gateway/admin-password (generated once, owner-only)
    /// and passed as Dfs__Gateway__Auth__AdminPassword; null without a gateway resource.
    /// </summary>
    public string? GatewayAdminPassword
    {
        get
        {
            if (FindResource(ResourceNames.Gateway) is null) return null;
            if (GatewayOverride(AdminPassword.PasswordVariable) is { } overridden) return overridden;
            lock (_gate) return _adminPassword ??= AdminPassword.LoadOrCreate(GatewayAdminPasswordPath);
        }
    }

    /// <summary>The first admin's name: "admin" unless <see cref="DfsAppHostOptions.ResourceEnvironment"/> sets another.</summary>
    public string GatewayAdminUser => GatewayOverride(AdminPassword.UserVariable) ?? AdminPassword.User;

    private string? GatewayOverride(string variable) =>
        Options.ResourceEnvironment.TryGetValue(ResourceNames.Gateway, out var overrides) && overrides.TryGetValue(variable, out var value) ? value : null;

    public string GatewayAdminPasswordPath => Path.Combine(StateDirectory, ResourceNames.Gateway, AdminPassword.FileName);

    public IReadOnlyList<ProcessResource> Resources
    {
        get { lock (_gate) return [.. _resources]; }
    }

    internal ResourceContext Context { get; }

    /// <summary>Set by the testing builder for a temp StateDir it created.</summary>
    internal bool DeleteStateDirectoryOnDispose { get; set; }

    internal event Action<ProcessResource>? ResourceAdded;

    /// <summary>
    /// The standard cluster for the options: local profile postgres, rabbitmq, gateway, node-1..node-N, replicator;
    /// external profile gateway, node-1..node-N and (with a broker) replicator, on the given servers;
    /// embedded profile gateway (SQLite, the Replicator in-process) and node-1..node-N.
    /// </summary>
    public static DfsApplicationBuilder Create(DfsAppHostOptions options, ILoggerFactory? loggerFactory = null) =>
        new DfsApplicationBuilder(options, loggerFactory).AddDfsCluster();

    /// <summary>No resources yet; add them with the Add… methods.</summary>
    public static DfsApplicationBuilder CreateEmpty(DfsAppHostOptions options, ILoggerFactory? loggerFactory = null) =>
        new(options, loggerFactory);

    public DfsApplicationBuilder AddDfsCluster()
    {
        switch (Profile.Profile)
        {
            case Profiles.Local:
                AddPostgres();
                AddRabbitMq();
                break;
            case Profiles.External:
                AddConnectionString(ResourceNames.MetadataConnection, Options.MetadataConnectionString!);
                if (Options.MessagingConnectionString is { } messaging) AddConnectionString(ResourceNames.MessagingConnection, messaging);
                break;
            default:
                AddConnectionString(ResourceNames.MetadataConnection, "Data Source=" + Path.Combine(StateDirectory, ResourceNames.Gateway, "dfs.db"));
                break;
        }
        AddGateway();
        for (var i = 0; i < Options.Nodes; i++) AddStorageNode();
        // Without a broker the gateway hosts the Replicator itself.
        if (HasConnectionString(ResourceNames.MessagingConnection)) AddReplicator();
        return this;
    }

    public PostgresResource AddPostgres(string name = ResourceNames.Postgres)
    {
        var bin = Profile.PostgresBinDirectory ?? ProfileDetector.FindPostgresBin()
            ?? throw new AppHostConfigurationException($"No PostgreSQL binaries found under {ProfileDetector.DefaultSearchRoot}; install the postgresql package.");
        return AddResource(new PostgresResource(bin, name));
    }

    /// <summary>Our own broker; provides ConnectionStrings__messaging to the gateway and the Replicator added after it.</summary>
    public RabbitMqResource AddRabbitMq(string name = ResourceNames.RabbitMq)
    {
        var server = Profile.RabbitMqServer ?? RabbitMqResource.FindServer()
            ?? throw new AppHostConfigurationException("No RabbitMQ server (rabbitmq-server) found; install the rabbitmq-server package.");
        return AddResource(new RabbitMqResource(server, name));
    }

    /// <summary>
    /// Waits for the metadata database and, when there is one, the broker (ConnectionStrings__messaging);
    /// without a broker it hosts the Replicator in-process, so it also gets the Replicator's settings.
    /// </summary>
    public ProjectResource AddGateway()
    {
        var gateway = new ProjectResource(ResourceNames.Gateway, ResourceKinds.Gateway, ServiceProjectNames.Gateway, Options.GatewayPort)
            {
                Scheme = GatewayCertificateThumbprint is null ? Uri.UriSchemeHttp : Uri.UriSchemeHttps,
            }
            .WithEnvironment("Dfs__Gateway__ChunkSizeBytes", Options.ChunkSizeBytes)
            .WithEnvironment("Dfs__Gateway__ReplicationFactor", Options.ReplicationFactor)
            .WithEnvironment("Dfs__Cluster__HeartbeatIntervalMs", Options.HeartbeatIntervalMs)
            .WithEnvironment("Dfs__Cluster__NodeDeadAfterMs", Options.NodeDeadAfterMs)
            .WithEnvironment("Dfs__Cluster__Secret", ClusterSecret);
        WithClusterTrust(gateway);
        // The first admin's password when the gateway starts on an empty user table (also what CreateHttpClient uses).
        gateway.WithEnvironment(AdminPassword.PasswordVariable, () => GatewayAdminPassword);
        // ASPNETCORE_URLS is https://127.0.0.1:PORT then; Kestrel's default certificate serves it.
        if (Options.GatewayCertificatePath is { } certificate)
        {
            gateway.WithEnvironment("Kestrel__Certificates__Default__Path", Path.GetFullPath(certificate));
            if (Options.GatewayCertificatePassword is { } password) gateway.WithEnvironment("Kestrel__Certificates__Default__Password", password);
        }
        if (Options.GcGraceMs is { } grace) gateway.WithEnvironment("Dfs__Gateway__GcGraceMs", grace);
        if (Options.GcIntervalMs is { } interval) gateway.WithEnvironment("Dfs__Gateway__GcIntervalMs", interval);
        WithConnectionString(gateway, ResourceNames.MetadataConnection);
        if (HasConnectionString(ResourceNames.MessagingConnection))
            WithConnectionString(gateway, ResourceNames.MessagingConnection);
        else if (Options.ReplicatorReconcileIntervalMs is { } reconcile)
            gateway.WithEnvironment("Dfs__Replicator__ReconcileIntervalMs", reconcile);
        return AddResource(gateway);
    }

    /// <summary>node-K with the next free K unless named; finds the gateway through services__gateway__http__0.</summary>
    public ProjectResource AddStorageNode(string? name = null)
    {
        var gateway = FindResource(ResourceNames.Gateway) ?? throw new InvalidOperationException("Add the gateway before storage nodes.");
        name ??= NextStorageNodeName();
        var node = new ProjectResource(name, ResourceKinds.StorageNode, ServiceProjectNames.StorageNode);
        node.WithReference(gateway)
            .WithEnvironment("Dfs__StorageNode__Name", name)
            .WithEnvironment("Dfs__StorageNode__DataDir", () => node.DataDirectory)
            .WithEnvironment("Dfs__StorageNode__AdvertisedUrl", () => node.Url?.ToString().TrimEnd('/'))
            .WithEnvironment("Dfs__Cluster__HeartbeatIntervalMs", Options.HeartbeatIntervalMs)
            .WithEnvironment("Dfs__Cluster__Secret", ClusterSecret);
        WithClusterTrust(node);
        return AddResource(node);
    }

    /// <summary>
    /// The Replicator as its own service: finds the gateway (services__gateway__http__0) and consumes events
    /// from the broker (ConnectionStrings__messaging); waits for both. Add the broker first.
    /// </summary>
    public ProjectResource AddReplicator()
    {
        var gateway = FindResource(ResourceNames.Gateway) ?? throw new InvalidOperationException("Add the gateway before the Replicator.");
        if (!HasConnectionString(ResourceNames.MessagingConnection))
            throw new InvalidOperationException("Add a broker (AddRabbitMq) or a messaging connection string before the Replicator.");
        var replicator = new ProjectResource(ResourceNames.Replicator, ResourceKinds.Replicator, ServiceProjectNames.Replicator)
            .WithReference(gateway)
            .WithEnvironment("Dfs__Cluster__HeartbeatIntervalMs", Options.HeartbeatIntervalMs)
            .WithEnvironment("Dfs__Cluster__NodeDeadAfterMs", Options.NodeDeadAfterMs)
            .WithEnvironment("Dfs__Cluster__Secret", ClusterSecret);
        WithClusterTrust(replicator);
        if (Options.ReplicatorReconcileIntervalMs is { } reconcile)
            replicator.WithEnvironment("Dfs__Replicator__ReconcileIntervalMs", reconcile);
        WithConnectionString(replicator, ResourceNames.MessagingConnection);
        return AddResource(replicator);
    }

    public ExecutableResource AddExecutable(string name, string fileName, params string[] arguments) =>
        AddResource(new ExecutableResource(name, fileName, arguments));

    public T AddResource<T>(T resource) where T : ProcessResource
    {
        lock (_gate)
        {
            if (_resources.Any(r => r.Name == resource.Name))
                throw new InvalidOperationException($"A resource named '{resource.Name}' already exists.");
            resource.Attach(Context);
            _resources.Add(resource);
        }
        ResourceAdded?.Invoke(resource);
        return resource;
    }

    /// <summary>Takes a stopped resource out of the model (a removed storage node); false when something waits for it.</summary>
    internal bool RemoveResource(ProcessResource resource)
    {
        lock (_gate)
        {
            if (_resources.Any(r => r.Dependencies.Contains(resource))) return false;
            return _resources.Remove(resource);
        }
    }

    /// <summary>A connection string that is not a resource (embedded SQLite, an external server).</summary>
    public DfsApplicationBuilder AddConnectionString(string name, string connectionString)
    {
        lock (_gate) _connectionStrings[name] = connectionString;
        return this;
    }

    public string? GetConnectionString(string name)
    {
        foreach (var resource in Resources)
            if (resource is IResourceWithConnectionString r && r.ConnectionStringName == name)
                return r.GetConnectionString();
        lock (_gate) return _connectionStrings.GetValueOrDefault(name);
    }

    public ProcessResource? FindResource(string name)
    {
        lock (_gate) return _resources.FirstOrDefault(r => r.Name == name);
    }

    public DfsApplication Build() => new(this);

    internal string NextStorageNodeName()
    {
        var highest = Resources
            .Where(r => r.Name.StartsWith(ResourceNames.StorageNodePrefix, StringComparison.Ordinal))
            .Select(r => int.TryParse(r.Name.AsSpan(ResourceNames.StorageNodePrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k : 0)
            .DefaultIfEmpty(0)
            .Max();
        return ResourceNames.StorageNode(highest + 1);
    }

    /// <summary>The pin of the gateway's certificate, for every service that calls the gateway (the gateway calls itself when embedded).</summary>
    private void WithClusterTrust(ProcessResource service)
    {
        if (GatewayCertificateThumbprint is { } thumbprint) service.WithEnvironment("Dfs__Cluster__GatewayCertificateThumbprint", thumbprint);
    }

    /// <summary>Loads the certificate once at start, so that a wrong path, password or a file without its key is said before anything runs.</summary>
    private static string ReadCertificateThumbprint(string path, string? password)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            if (!certificate.HasPrivateKey)
                throw new AppHostConfigurationException($"gateway-cert: '{path}' holds no private key; the gateway needs one to serve HTTPS (export a .pfx with its key).");
            return CertificatePinning.Sha256Thumbprint(certificate);
        }
        catch (CryptographicException e)
        {
            throw new AppHostConfigurationException($"gateway-cert: '{path}' cannot be read as a PKCS#12 (.pfx) certificate with the given password: {e.Message}");
        }
    }

    private bool HasConnectionString(string name)
    {
        if (Resources.Any(r => r is IResourceWithConnectionString c && c.ConnectionStringName == name)) return true;
        lock (_gate) return _connectionStrings.ContainsKey(name);
    }

    /// <summary>ConnectionStrings__NAME from the resource that provides it, else from <see cref="AddConnectionString"/>.</summary>
    private void WithConnectionString(ProcessResource consumer, string name)
    {
        var provider = Resources.FirstOrDefault(r => r is IResourceWithConnectionString c && c.ConnectionStringName == name);
        if (provider is not null) consumer.WithReference(provider);
        else consumer.WithEnvironment("ConnectionStrings__" + name, () => GetConnectionString(name));
    }
}
