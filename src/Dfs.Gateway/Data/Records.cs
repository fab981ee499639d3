using Dfs.Contracts.Api;

namespace Dfs.Gateway.Data;

/// <summary>A file or directory. Path is the full canonical path (unique); ParentId is null at the root.</summary>
public sealed class EntryRecord
{
    public Guid Id { get; set; }
    public Guid? ParentId { get; set; }
    public required string Name { get; set; }
    public required string Path { get; set; }
    public EntryKind Kind { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ModifiedAt { get; set; }
    public Guid? CurrentVersionId { get; set; }
    /// <summary>Bumped by every change of the row: optimistic concurrency for racing overwrites.</summary>
    public int Revision { get; set; }
}

/// <summary>A committed version of a file: an ordered list of chunks plus the whole file's digests.</summary>
public sealed class FileVersionRecord
{
    public Guid Id { get; set; }
    public Guid FileId { get; set; }
    public int Number { get; set; }
    public long Size { get; set; }
    public required string Md5 { get; set; }
    public required string Sha256 { get; set; }
    public long ChunkSize { get; set; }
    public int ChunkCount { get; set; }
    public int ReplicationFactor { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Content-Type, user metadata (x-amz-meta-*) and the other headers a client stored with the object (JSON); null: none.</summary>
    public string? ObjectHeaders { get; set; }
    /// <summary>The S3 ETag of a version assembled from a multipart upload ("md5-of-part-md5s-N"); null: the MD5 is the ETag.</summary>
    public string? MultipartETag { get; set; }
}

public sealed class VersionChunkRecord
{
    public Guid VersionId { get; set; }
    public int Index { get; set; }
    public required string ChunkId { get; set; }
    public long Offset { get; set; }
    public long Size { get; set; }
}

/// <summary>A distinct chunk (content-addressed: the id is its SHA-256), shared by every version that holds the same bytes.</summary>
public sealed class ChunkRecord
{
    public required string Id { get; set; }
    public long Size { get; set; }
    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// The bytes of a small chunk kept in the metadata store instead of on the nodes (Dfs:Gateway:InlineMaxBytes): written in
/// the transaction that commits the file, so one WAL flush makes it durable, and no node holds or replicates it.
/// </summary>
public sealed class InlineChunkRecord
{
    public required string ChunkId { get; set; }
    public required byte[] Data { get; set; }
}

/// <summary>A copy of a chunk on a node.</summary>
public sealed class ReplicaRecord
{
    public required string ChunkId { get; set; }
    public Guid NodeId { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class NodeRecord
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public required string Url { get; set; }
    public long CapacityBytes { get; set; }
    public long FreeBytes { get; set; }
    public long UsedBytes { get; set; }
    public long ChunkCount { get; set; }
    public DateTime RegisteredAt { get; set; }
    public DateTime LastHeartbeatAt { get; set; }
    /// <summary>Set while the node is being drained (emptied before removal); kept across gateway restarts.</summary>
    public DateTime? DrainingSince { get; set; }
}

/// <summary>
/// A node id removed from the cluster: its process still heartbeating is told 410 Gone and stops, instead of
/// registering again and undoing the removal. Registering (a deliberate new start) deletes the row.
/// </summary>
public sealed class RemovedNodeRecord
{
    public Guid Id { get; set; }
    public required string Name { get; set; }
    public DateTime RemovedAt { get; set; }
}
