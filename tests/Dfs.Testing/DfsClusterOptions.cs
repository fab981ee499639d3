using System.Globalization;

namespace Dfs.Testing;

/// <summary>
/// The AppHost's switches for a test cluster, turned into its command line (<see cref="ToArguments"/>): what a developer
/// would pass to `dotnet run --project src/Dfs.AppHost`, plus the resources' extra environment.
/// </summary>
public sealed class DfsClusterOptions
{
    /// <summary>The first admin's password in every test cluster (the secret parameter admin-password).</summary>
    public const string AdminPassword = "test-admin-password-0123";

    public string Profile { get; set; } = "local";
    public int Nodes { get; set; } = 3;
    public int SpareNodes { get; set; }
    public int Gateways { get; set; } = 1;
    public long ChunkSizeBytes { get; set; } = 1024 * 1024;
    public int ReplicationFactor { get; set; } = 1;
    public int HeartbeatIntervalMs { get; set; } = 300;
    public int NodeDeadAfterMs { get; set; } = 3000;
    public int? ReconcileIntervalMs { get; set; }
    public int? GcGraceMs { get; set; }
    public int? GcIntervalMs { get; set; }
    public int? GatewayPort { get; set; }

    /// <summary>Restart crashed resources; off by default, so that a test's fault stays what the test made it.</summary>
    public bool RestartCrashed { get; set; }

    /// <summary>
    /// Stream every resource's console output into this process: forwarded to its logging (Aspire.Hosting.Testing's
    /// default) and kept for <see cref="DfsTestCluster.Output"/>. The benchmark turns it off: the streaming would cost the
    /// measuring process CPU.
    /// </summary>
    public bool ResourceLogs { get; set; } = true;

    /// <summary>Null: a fresh temp folder, deleted with the cluster.</summary>
    public string? StateDirectory { get; set; }

    /// <summary>Extra environment per resource (ResourceEnvironment:NAME:VARIABLE).</summary>
    public Dictionary<string, Dictionary<string, string>> ResourceEnvironment { get; } = new(StringComparer.Ordinal);

    /// <summary>More AppHost arguments, as they would be typed.</summary>
    public List<string> ExtraArguments { get; } = [];

    public IReadOnlyList<string> ToArguments(string stateDirectory)
    {
        var args = new List<string>
        {
            "--state-dir", stateDirectory,
            "--profile", Profile,
            "--nodes", Invariant(Nodes),
            "--spare-nodes", Invariant(SpareNodes),
            "--gateways", Invariant(Gateways),
            "--chunk-size", Invariant(ChunkSizeBytes),
            "--replication", Invariant(ReplicationFactor),
            "--heartbeat-ms", Invariant(HeartbeatIntervalMs),
            "--node-dead-after-ms", Invariant(NodeDeadAfterMs),
            "--no-dashboard",
            "--Parameters:admin-password=" + AdminPassword,
        };
        if (!RestartCrashed) args.Add("--no-restart");
        if (ReconcileIntervalMs is { } reconcile) args.AddRange(["--reconcile-ms", Invariant(reconcile)]);
        if (GcGraceMs is { } grace) args.AddRange(["--gc-grace-ms", Invariant(grace)]);
        if (GcIntervalMs is { } interval) args.AddRange(["--gc-interval-ms", Invariant(interval)]);
        if (GatewayPort is { } port) args.AddRange(["--gateway-port", Invariant(port)]);
        foreach (var (resource, variables) in ResourceEnvironment)
            foreach (var (variable, value) in variables)
                args.Add($"--Dfs:AppHost:ResourceEnvironment:{resource}:{variable}={value}");
        args.AddRange(ExtraArguments);
        return args;
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}
