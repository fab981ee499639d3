namespace Dfs.Contracts.Messages;

/// <summary>Published by the gateway after a file version is committed.</summary>
public sealed record FileStored(
    Guid FileId,
    string Path,
    int Version,
    int ReplicationFactor,
    IReadOnlyList<StoredChunkHolders> Chunks,
    DateTime CommittedAt);

public sealed record StoredChunkHolders(string ChunkId, long Size, IReadOnlyList<Guid> NodeIds);

/// <summary>Published by the gateway after files are deleted; their chunks may become garbage.</summary>
public sealed record FileDeleted(Guid FileId, string Path, IReadOnlyList<string> ChunkIds, DateTime DeletedAt);

/// <summary>Published by the gateway when a node is declared dead.</summary>
public sealed record NodeLost(Guid NodeId, string Name, DateTime LastHeartbeatAt);

/// <summary>Published by the gateway when a node is asked to drain: its chunks must get copies elsewhere.</summary>
public sealed record NodeDraining(Guid NodeId, string Name, DateTime RequestedAt);
