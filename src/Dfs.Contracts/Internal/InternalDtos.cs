namespace Dfs.Contracts.Internal;

/// <summary>POST /internal/nodes/register: a storage node announces itself (at start and whenever the gateway forgot it).</summary>
public sealed record NodeRegistration(Guid NodeId, string Name, string Url, NodeUsage Usage);

public sealed record NodeRegistrationAck(Guid NodeId, int HeartbeatIntervalMs);

/// <summary>
/// POST /internal/nodes/{id}/heartbeat. 404 means the gateway does not know the node: register again. 410 Gone means
/// the node was removed from the cluster: its process stops (registering again would undo the removal).
/// </summary>
public sealed record NodeHeartbeat(NodeUsage Usage);

/// <summary>What a heartbeat was answered with.</summary>
public enum HeartbeatOutcome
{
    /// <summary>204: recorded.</summary>
    Accepted,

    /// <summary>404: the gateway does not know the node (e.g. it restarted on a new database): register again.</summary>
    Unknown,

    /// <summary>410: the node was removed from the cluster: stop the process.</summary>
    Removed,
}

/// <summary>A heartbeat's outcome, with the gateway's reason (its problem detail) when it gave one.</summary>
public sealed record HeartbeatAnswer(HeartbeatOutcome Outcome, string? Reason = null);

public sealed record NodeUsage(long CapacityBytes, long FreeBytes, long UsedBytes, long ChunkCount);

/// <summary>POST /internal/replicas: a copy of a chunk now exists on a node (idempotent).</summary>
public sealed record ReplicaReport(string ChunkId, Guid NodeId);

/// <summary>
/// POST /internal/replicas/corrupt: the node's scrubber found its copy of the chunk corrupt and took it out of service.
/// The gateway drops the replica record (idempotent), so the Replicator copies a good one back.
/// </summary>
public sealed record CorruptReplicaReport(string ChunkId, Guid NodeId);

/// <summary>GET /status on a storage node; <see cref="Scrub"/> is null only from nodes older than the scrubber.</summary>
public sealed record StorageNodeStatus(Guid NodeId, string Name, NodeUsage Usage, ScrubStatus? Scrub = null);

/// <summary>
/// The node's bitrot scrubber. A pass walks every chunk in id order; <see cref="PassStartedAt"/> is null between passes.
/// Pass figures survive restarts (a pass resumes where it stopped); totals and <see cref="CorruptChunks"/> count since
/// the process started. <see cref="AwaitingReport"/>: corrupt copies quarantined that the gateway has not acknowledged yet.
/// </summary>
public sealed record ScrubStatus(
    bool Enabled,
    long BytesPerSecond,
    long PassesCompleted,
    DateTime? PassStartedAt,
    double PassProgress,
    long PassChunks,
    long PassBytes,
    long TotalChunks,
    long TotalBytes,
    long CorruptChunks,
    int AwaitingReport,
    DateTime? LastPassCompletedAt,
    DateTime? NextPassAt);

/// <summary>GET /chunks?after=&amp;limit= on a storage node: the inventory, sorted by id.</summary>
public sealed record ChunkInventoryPage(IReadOnlyList<StoredChunk> Chunks, string? NextAfter);

public sealed record StoredChunk(string Id, long Size);

/// <summary>GET /internal/replication/work?limit=: chunks with fewer readable copies than wanted, most urgent first.</summary>
public sealed record ReplicationWork(IReadOnlyList<ChunkWork> Chunks);

/// <summary>
/// A chunk to bring to <see cref="Wanted"/> copies. <see cref="Holders"/> are the nodes whose copies count (not dead,
/// verified, not draining); <see cref="DrainingHolders"/> hold it on draining nodes: sources for copies, not copies.
/// </summary>
public sealed record ChunkWork(string ChunkId, long Size, int Wanted, IReadOnlyList<Guid> Holders, IReadOnlyList<Guid>? DrainingHolders = null);
