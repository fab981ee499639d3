using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Model;

/// <summary>
/// The AppHost's settings: bound from appsettings.json (section "Dfs:AppHost"), the environment
/// (Dfs__AppHost__X or DFS_APPHOST_X) and the command line; tests set them in code.
/// </summary>
public sealed class DfsAppHostOptions
{
    public const string SectionName = "Dfs:AppHost";
    public const long MinChunkSizeBytes = 4 * 1024;
    public const long MaxChunkSizeBytes = 1024L * 1024 * 1024;

    /// <summary>
    /// auto | local | embedded | external. auto = external when a metadata connection string is given, else local when
    /// PostgreSQL binaries and rabbitmq-server are installed, else embedded.
    /// </summary>
    public string Profile { get; set; } = Profiles.Auto;

    /// <summary>External profile: the gateway's PostgreSQL (Npgsql connection string, or "Data Source=FILE" for SQLite).</summary>
    public string? MetadataConnectionString { get; set; }

    /// <summary>External profile: the broker (amqp://user:pass@host:port/vhost); absent = the Replicator runs inside the gateway.</summary>
    public string? MessagingConnectionString { get; set; }

    /// <summary>Serve the dashboard (resources, logs, cluster, files).</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>The dashboard's port on 127.0.0.1; 0 = a free one. When the port is taken a free one is used and said so.</summary>
    public int DashboardPort { get; set; } = 18888;

    /// <summary>The dashboard's access token; null = a new random one each run (printed at start, written to cluster.json).</summary>
    public string? DashboardToken { get; set; }

    public string StateDir { get; set; } = ClusterFile.DefaultStateDirectory;

    public int Nodes { get; set; } = 4;

    public int ReplicationFactor { get; set; } = 3;

    public long ChunkSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>0 = a free port (remembered in StateDir/gateway/port for the next run).</summary>
    public int GatewayPort { get; set; }

    /// <summary>
    /// A PKCS#12 (.pfx/.p12) certificate with its private key: the gateway then serves HTTPS (only) on its port, and the
    /// cluster's processes trust this certificate by its thumbprint even when the system does not. Null = plain HTTP.
    /// </summary>
    public string? GatewayCertificatePath { get; set; }

    /// <summary>The password of <see cref="GatewayCertificatePath"/>; null for a certificate file without one.</summary>
    public string? GatewayCertificatePassword { get; set; }

    public int HeartbeatIntervalMs { get; set; } = 2000;

    public int NodeDeadAfterMs { get; set; } = 15000;

    /// <summary>The Replicator's reconciler period (Dfs__Replicator__ReconcileIntervalMs); null = the Replicator's default.</summary>
    public int? ReplicatorReconcileIntervalMs { get; set; }

    /// <summary>How long the gateway keeps unreferenced chunks before collecting them (Dfs__Gateway__GcGraceMs); null = its default.</summary>
    public int? GcGraceMs { get; set; }

    /// <summary>How often the gateway's garbage collector runs (Dfs__Gateway__GcIntervalMs); null = its default.</summary>
    public int? GcIntervalMs { get; set; }

    /// <summary>Folder holding initdb and postgres; null = the newest /usr/lib/postgresql/*/bin.</summary>
    public string? PostgresBinDir { get; set; }

    /// <summary>Which build of the services to run (Debug/Release); null = the AppHost's own.</summary>
    public string? ServiceConfiguration { get; set; }

    /// <summary>How long a resource may take to become healthy (its dependencies' wait included).</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Between the polite stop signal and SIGKILL of the whole process tree.</summary>
    public TimeSpan StopGracePeriod { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long removing a storage node may take to copy its chunks elsewhere before it gives up (the node keeps running).</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Extra or replaced environment variables per resource name (applied last).</summary>
    public Dictionary<string, Dictionary<string, string>> ResourceEnvironment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Problems with the values, each a full sentence; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Profiles.All.Contains(Profile, StringComparer.Ordinal))
            errors.Add($"profile '{Profile}' is not one of {string.Join(", ", Profiles.All)}.");
        if (string.IsNullOrWhiteSpace(StateDir))
            errors.Add("state-dir must not be empty.");
        if (Nodes is < 1 or > 64)
            errors.Add($"nodes must be between 1 and 64 (got {Nodes}).");
        if (ReplicationFactor is < 1 or > 16)
            errors.Add($"replication must be between 1 and 16 (got {ReplicationFactor}).");
        if (ChunkSizeBytes is < MinChunkSizeBytes or > MaxChunkSizeBytes)
            errors.Add($"chunk-size must be between {MinChunkSizeBytes} and {MaxChunkSizeBytes} bytes (got {ChunkSizeBytes}).");
        if (Profile == Profiles.External && string.IsNullOrWhiteSpace(MetadataConnectionString))
            errors.Add("profile external needs the metadata connection string (--metadata \"Host=…;Database=…;Username=…;Password=…\").");
        if (Profile is Profiles.Local or Profiles.Embedded && (MetadataConnectionString is not null || MessagingConnectionString is not null))
            errors.Add($"profile {Profile} runs its own metadata store and messaging; connection strings are for --profile external (or auto).");
        if (MetadataConnectionString is null && MessagingConnectionString is not null)
            errors.Add("a messaging connection string was given without a metadata connection string (--metadata).");
        if (DashboardPort is < 0 or > 65535)
            errors.Add($"dashboard-port must be between 0 and 65535 (got {DashboardPort}).");
        if (DashboardToken is { } token && (token.Length < 16 || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))))
            errors.Add("the dashboard token must be at least 16 characters without spaces.");
        if (GatewayPort is < 0 or > 65535)
            errors.Add($"gateway-port must be between 0 and 65535 (got {GatewayPort}).");
        if (GatewayCertificatePath is { } certificate && !File.Exists(certificate))
            errors.Add($"gateway-cert: the certificate file '{certificate}' does not exist.");
        if (GatewayCertificatePath is null && GatewayCertificatePassword is not null)
            errors.Add("a gateway certificate password was given without a certificate (--gateway-cert PATH).");
        if (HeartbeatIntervalMs < 50)
            errors.Add($"heartbeat interval must be at least 50 ms (got {HeartbeatIntervalMs}).");
        if (NodeDeadAfterMs <= HeartbeatIntervalMs)
            errors.Add($"node-dead-after ({NodeDeadAfterMs} ms) must be longer than the heartbeat interval ({HeartbeatIntervalMs} ms).");
        if (ReplicatorReconcileIntervalMs is < 1)
            errors.Add($"reconcile interval must be at least 1 ms (got {ReplicatorReconcileIntervalMs}).");
        if (GcGraceMs is < 0)
            errors.Add($"gc grace must not be negative (got {GcGraceMs}).");
        if (GcIntervalMs is < 1)
            errors.Add($"gc interval must be at least 1 ms (got {GcIntervalMs}).");
        if (ServiceConfiguration is { Length: 0 })
            errors.Add("service configuration must not be empty (Debug or Release).");
        if (StartTimeout <= TimeSpan.Zero)
            errors.Add("start timeout must be positive.");
        if (DrainTimeout <= TimeSpan.Zero)
            errors.Add("drain timeout must be positive.");
        if (StopGracePeriod < TimeSpan.Zero)
            errors.Add("stop grace period must not be negative.");
        return errors;
    }
}
