using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Settings;

/// <summary>
/// The AppHost's settings, section "Dfs:AppHost" of its configuration: appsettings.json, the environment
/// (Dfs__AppHost__Nodes), and the command line (<see cref="DfsCommandLine"/>), the command line winning.
/// </summary>
public sealed class DfsAppHostOptions
{
    public const string SectionName = "Dfs:AppHost";

    /// <summary>Shorter keys are guessable; Aspire's own are 32 hex digits.</summary>
    public const int MinDashboardApiKeyLength = 16;

    /// <summary>auto | local | embedded | external (see <see cref="ProfileDetector"/>).</summary>
    public string Profile { get; set; } = Profiles.Auto;

    /// <summary>External profile: the gateway's PostgreSQL (Npgsql connection string, or "Data Source=FILE" for SQLite).</summary>
    public string? MetadataConnectionString { get; set; }

    /// <summary>External profile: the broker (amqp://user:pass@host:port/vhost); absent = the Replicator runs inside the gateway.</summary>
    public string? MessagingConnectionString { get; set; }

    /// <summary>External profile: Redis (host:port[,options]); absent = each gateway caches in its own memory.</summary>
    public string? CacheConnectionString { get; set; }

    public string StateDir { get; set; } = ClusterFile.DefaultStateDirectory;

    /// <summary>0: no node runs here; nodes on other hosts register with the gateway themselves (see docs/reliability.md).</summary>
    public int Nodes { get; set; } = 4;

    /// <summary>Storage nodes declared but not started: the dashboard's "Add storage node" (or their own Start) brings one in.</summary>
    public int SpareNodes { get; set; } = 2;

    /// <summary>Gateway processes side by side (gateway, gateway-2, …), sharing their state through PostgreSQL and Redis.</summary>
    public int Gateways { get; set; } = 1;

    public int ReplicationFactor { get; set; } = 3;

    public long ChunkSizeBytes { get; set; } = 8 * 1024 * 1024;

    /// <summary>0 = a port DCP chooses for each run.</summary>
    public int GatewayPort { get; set; }

    /// <summary>
    /// A PKCS#12 (.pfx/.p12) certificate with its private key: the gateway then serves HTTPS (only), and the cluster's
    /// processes trust this certificate by its thumbprint even when the system does not. Null = plain HTTP.
    /// </summary>
    public string? GatewayCertificatePath { get; set; }

    public string? GatewayCertificatePassword { get; set; }

    public int HeartbeatIntervalMs { get; set; } = 2000;

    public int NodeDeadAfterMs { get; set; } = 15000;

    /// <summary>The Replicator's reconciler period (Dfs__Replicator__ReconcileIntervalMs); null = the Replicator's default.</summary>
    public int? ReplicatorReconcileIntervalMs { get; set; }

    /// <summary>How long the gateway keeps unreferenced chunks before collecting them; null = its default.</summary>
    public int? GcGraceMs { get; set; }

    /// <summary>How often the gateway's garbage collector runs; null = its default.</summary>
    public int? GcIntervalMs { get; set; }

    /// <summary>Folder holding initdb and postgres; null = the newest /usr/lib/postgresql/*/bin.</summary>
    public string? PostgresBinDir { get; set; }

    /// <summary>Serve the Aspire dashboard.</summary>
    public bool Dashboard { get; set; } = true;

    /// <summary>The Aspire dashboard's port on 127.0.0.1; 0, or taken, = a free one.</summary>
    public int DashboardPort { get; set; } = 18888;

    /// <summary>
    /// The key a script sends (header x-api-key) to read the Aspire dashboard's telemetry API (/api/telemetry/…); null = a
    /// new key each run, which only the dashboard knows.
    /// </summary>
    public string? DashboardApiKey { get; set; }

    /// <summary>Restart a service or server whose process ends on its own with a failure, with doubling backoff.</summary>
    public bool RestartCrashed { get; set; } = true;

    /// <summary>How long the dashboard's "Drain and remove" may take to copy a node's chunks elsewhere before it gives up.</summary>
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Extra or replaced environment variables per resource name (applied last): ResourceEnvironment:gateway:VARIABLE.</summary>
    public Dictionary<string, Dictionary<string, string>> ResourceEnvironment { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Problems with the values, each a full sentence; empty when valid.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Profiles.All.Contains(Profile, StringComparer.Ordinal))
            errors.Add($"profile '{Profile}' is not one of {string.Join(", ", Profiles.All)}.");
        if (string.IsNullOrWhiteSpace(StateDir))
            errors.Add("state-dir must not be empty.");
        if (Nodes is < 0 or > 64)
            errors.Add($"nodes must be between 0 and 64 (got {Nodes}).");
        if (SpareNodes is < 0 or > 16)
            errors.Add($"spare-nodes must be between 0 and 16 (got {SpareNodes}).");
        if (Gateways is < 1 or > 8)
            errors.Add($"gateways must be between 1 and 8 (got {Gateways}).");
        else if (Gateways > 1 && (Profile == Profiles.Embedded || Profile == Profiles.External && CacheConnectionString is null))
            errors.Add($"gateways {Gateways} needs Redis, where gateways share what they must see alike: use the local profile, or --cache with --profile external.");
        errors.AddRange(SharedSettings.Validate(ChunkSizeBytes, ReplicationFactor, HeartbeatIntervalMs, NodeDeadAfterMs));
        if (Profile == Profiles.External && string.IsNullOrWhiteSpace(MetadataConnectionString))
            errors.Add("profile external needs the metadata connection string (--metadata \"Host=…;Database=…;Username=…;Password=…\").");
        if (Profile is Profiles.Local or Profiles.Embedded && (MetadataConnectionString ?? MessagingConnectionString ?? CacheConnectionString) is not null)
            errors.Add($"profile {Profile} runs its own metadata store, messaging and cache; connection strings are for --profile external (or auto).");
        if (MetadataConnectionString is null && (MessagingConnectionString ?? CacheConnectionString) is not null)
            errors.Add("a messaging or cache connection string was given without a metadata connection string (--metadata).");
        if (GatewayPort is < 0 or > 65535)
            errors.Add($"gateway-port must be between 0 and 65535 (got {GatewayPort}).");
        if (DashboardPort is < 0 or > 65535)
            errors.Add($"dashboard-port must be between 0 and 65535 (got {DashboardPort}).");
        if (DashboardApiKey is { Length: < MinDashboardApiKeyLength })
            errors.Add($"dashboard-api-key must be at least {MinDashboardApiKeyLength} characters long.");
        if (GatewayCertificatePath is { } certificate && !File.Exists(certificate))
            errors.Add($"gateway-cert: the certificate file '{certificate}' does not exist.");
        if (GatewayCertificatePath is null && GatewayCertificatePassword is not null)
            errors.Add("a gateway certificate password was given without a certificate (--gateway-cert PATH).");
        if (ReplicatorReconcileIntervalMs is < 100)
            errors.Add($"reconcile-ms must be at least 100 (got {ReplicatorReconcileIntervalMs}).");
        if (GcGraceMs is < 0)
            errors.Add($"gc-grace-ms must not be negative (got {GcGraceMs}).");
        if (GcIntervalMs is < 100)
            errors.Add($"gc-interval-ms must be at least 100 (got {GcIntervalMs}).");
        if (DrainTimeout <= TimeSpan.Zero)
            errors.Add("DrainTimeout must be positive.");
        return errors;
    }
}

public static class Profiles
{
    public const string Auto = "auto";
    public const string Local = "local";
    public const string Embedded = "embedded";
    public const string External = "external";

    public static readonly IReadOnlyList<string> All = [Auto, Local, Embedded, External];
}
