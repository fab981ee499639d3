using System.Globalization;

namespace Dfs.Contracts.Cluster;

/// <summary>
/// The settings that more than one process reads, each with its one set of limits: the gateway and the storage nodes
/// validate their options against these constants at start, and the AppHost checks its own values against the same
/// rules (<see cref="Validate"/>) before it starts anything, so a value one process would refuse never gets that far.
/// </summary>
public static class SharedSettings
{
    /// <summary>Dfs:Gateway:ChunkSizeBytes; a node refuses a chunk above its Dfs:StorageNode:MaxChunkBytes, which defaults to the maximum.</summary>
    public const long MinChunkSizeBytes = 4 * 1024;
    public const long MaxChunkSizeBytes = 64L * 1024 * 1024;

    /// <summary>Dfs:Gateway:ReplicationFactor.</summary>
    public const int MinReplicationFactor = 1;
    public const int MaxReplicationFactor = 16;

    /// <summary>Dfs:Cluster:HeartbeatIntervalMs (gateway, nodes, Replicator).</summary>
    public const int MinHeartbeatIntervalMs = 50;
    public const int MaxHeartbeatIntervalMs = 60_000;

    /// <summary>Dfs:Cluster:NodeDeadAfterMs (gateway, Replicator); longer than the heartbeat interval.</summary>
    public const int MinNodeDeadAfterMs = 100;
    public const int MaxNodeDeadAfterMs = 3_600_000;

    /// <summary>Each value outside its limits, as a sentence naming the setting as the AppHost's switch.</summary>
    public static IReadOnlyList<string> Validate(long chunkSizeBytes, int replicationFactor, int heartbeatIntervalMs, int nodeDeadAfterMs)
    {
        var errors = new List<string>();
        if (chunkSizeBytes is < MinChunkSizeBytes or > MaxChunkSizeBytes)
            errors.Add($"chunk-size must be between {Size(MinChunkSizeBytes)} and {Size(MaxChunkSizeBytes)} (got {Size(chunkSizeBytes)}).");
        if (replicationFactor is < MinReplicationFactor or > MaxReplicationFactor)
            errors.Add($"replication must be between {MinReplicationFactor} and {MaxReplicationFactor} (got {replicationFactor}).");
        if (heartbeatIntervalMs is < MinHeartbeatIntervalMs or > MaxHeartbeatIntervalMs)
            errors.Add($"heartbeat-ms must be between {MinHeartbeatIntervalMs} and {MaxHeartbeatIntervalMs} (got {heartbeatIntervalMs}).");
        if (nodeDeadAfterMs is < MinNodeDeadAfterMs or > MaxNodeDeadAfterMs)
            errors.Add($"node-dead-after-ms must be between {MinNodeDeadAfterMs} and {MaxNodeDeadAfterMs} (got {nodeDeadAfterMs}).");
        else if (nodeDeadAfterMs <= heartbeatIntervalMs)
            errors.Add($"node-dead-after-ms ({nodeDeadAfterMs}) must be longer than the heartbeat interval ({heartbeatIntervalMs}).");
        return errors;
    }

    private static string Size(long bytes) =>
        bytes % (1024 * 1024) == 0 ? (bytes / (1024 * 1024)).ToString(CultureInfo.InvariantCulture) + "M"
        : bytes % 1024 == 0 ? (bytes / 1024).ToString(CultureInfo.InvariantCulture) + "K"
        : bytes.ToString(CultureInfo.InvariantCulture) + " bytes";
}
