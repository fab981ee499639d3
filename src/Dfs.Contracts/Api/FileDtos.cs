using System.Text.Json.Serialization;

namespace Dfs.Contracts.Api;

[JsonConverter(typeof(JsonStringEnumConverter<EntryKind>))]
public enum EntryKind { File, Directory }

[JsonConverter(typeof(JsonStringEnumConverter<ConflictPolicy>))]
public enum ConflictPolicy { Fail, Overwrite, Rename }

/// <summary>
/// When a PUT answers: <see cref="One"/> (the default) once each chunk has one fsynced copy, the Replicator making the
/// rest; <see cref="All"/> once each chunk has as many fsynced copies as the replication factor asks, made by pipeline
/// replication while the bytes arrive.
/// </summary>
[JsonConverter(typeof(JsonStringEnumConverter<Durability>))]
public enum Durability { One, All }

/// <summary>Answer to PUT /api/files/{path} (201).</summary>
public sealed record PutFileResult(
    string Path,
    long Size,
    string Md5,
    string Sha256,
    int Version,
    int ChunkCount,
    long ChunkSize,
    bool Renamed,
    DateTime CreatedAt);

/// <summary>One row of a directory listing.</summary>
public sealed record EntryInfo(
    string Path,
    string Name,
    EntryKind Kind,
    long Size,
    DateTime ModifiedAt,
    int? Version = null,
    string? Md5 = null,
    string? Sha256 = null);

/// <summary>GET /api/list/{path}: entries sorted by name (ordinal); pass NextCursor back as ?cursor= for the next page.</summary>
public sealed record ListingPage(string Path, IReadOnlyList<EntryInfo> Entries, string? NextCursor);

/// <summary>GET /api/stat/{path}: an entry plus, for a file, its chunks and where each one lives.</summary>
public sealed record EntryDetails(
    string Path,
    string Name,
    EntryKind Kind,
    long Size,
    DateTime CreatedAt,
    DateTime ModifiedAt,
    int? Version,
    string? Md5,
    string? Sha256,
    long? ChunkSize,
    IReadOnlyList<ChunkInfo> Chunks);

/// <param name="Inline">The metadata store keeps the chunk's bytes (a small file, Dfs:Gateway:InlineMaxBytes): no node holds a copy.</param>
public sealed record ChunkInfo(int Index, string Id, long Offset, long Size, IReadOnlyList<ReplicaInfo> Replicas, bool Inline = false);

public sealed record ReplicaInfo(Guid NodeId, string NodeName, string NodeUrl, string NodeState);

/// <summary>POST /api/move.</summary>
public sealed record MoveRequest(string From, string To);

/// <summary>GET /api/nodes. A draining node still serves reads but takes no new chunks and its copies do not count.</summary>
public sealed record NodeInfo(
    Guid Id,
    string Name,
    string Url,
    string State,
    long CapacityBytes,
    long FreeBytes,
    long UsedBytes,
    long ChunkCount,
    DateTime RegisteredAt,
    DateTime LastHeartbeatAt,
    bool Draining = false);

/// <summary>
/// POST, GET and DELETE /api/nodes/{node}/drain: how far a node is from holding nothing the cluster still needs.
/// </summary>
/// <param name="ChunksHeld">Chunks the node holds according to the metadata.</param>
/// <param name="ChunksAtRisk">
/// Chunks on the node without enough copies on other counted nodes (not dead, verified, not draining); enough is
/// min(replication factor, live nodes that are not draining), and at least 1.
/// </param>
/// <param name="Drained">Draining and nothing at risk: the node can be stopped and removed without losing a copy.</param>
public sealed record NodeDrainStatus(Guid NodeId, string Name, bool Draining, long ChunksHeld, long ChunksAtRisk, bool Drained);

/// <summary>GET /api/cluster: a summary for dashboards and `dfs nodes`.</summary>
public sealed record ClusterSummary(
    int LiveNodes,
    int DeadNodes,
    long Files,
    long Directories,
    long Chunks,
    long StoredBytes,
    long CapacityBytes,
    long FreeBytes,
    int ReplicationFactor,
    long ChunkSize,
    int DrainingNodes = 0);

/// <summary>
/// GET /api/layout/{path}: a file's current version and, for each chunk, signed URLs that read it straight from a node
/// holding it (live holders first) until <paramref name="ExpiresAt"/>. The reader checks each chunk's SHA-256 (its id).
/// </summary>
public sealed record FileLayout(string Path, int Version, long Size, string Md5, string Sha256, DateTime ExpiresAt, IReadOnlyList<ChunkSource> Chunks);

/// <param name="Data">The chunk's bytes when the metadata store keeps them (a small file): no URL to read, still checked against the id.</param>
public sealed record ChunkSource(int Index, string Id, long Offset, long Size, IReadOnlyList<string> Urls, byte[]? Data = null);

/// <summary>GET /api/gateway: the gateway process that answered, its link to the shared state, and its cache counters.</summary>
/// <param name="SharedState">"redis" when the gateways share Redis, "in-process" for a gateway alone.</param>
/// <param name="SharedStateReachable">False while Redis cannot be reached: the gateway serves from the metadata alone.</param>
public sealed record GatewayInstanceInfo(
    string Host,
    int ProcessId,
    string SharedState,
    bool SharedStateReachable,
    long CredentialCacheHits,
    long CredentialCacheMisses,
    long ChunkCacheHits,
    long ChunkCacheMisses,
    long SharedStateUnreachable);

/// <summary>RFC 9457 problem details as clients read them.</summary>
public sealed record ApiProblem(string? Type, string? Title, int? Status, string? Detail, string? Instance);

/// <summary>
/// GET /api/cluster/replication: how far the cluster is from its replication targets.
/// <see cref="UnderReplicatedChunks"/> counts chunks with fewer copies than their replication factor, whatever
/// the node count; <see cref="RepairableChunks"/> is the part of them the Replicator can repair now (below
/// min(factor, live nodes that are not draining), with a readable copy): the replication backlog.
/// </summary>
public sealed record ReplicationStatus(
    long UnderReplicatedChunks,
    long RepairableChunks,
    long UnreadableChunks,
    int LiveNodes,
    int DefaultReplicationFactor,
    IReadOnlyDictionary<string, long>? ErrorQueues,
    string? MessagingError);
