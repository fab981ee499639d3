using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Clients;

/// <summary>Talks to any storage node; the node is named per call because callers talk to many.</summary>
public interface IStorageNodeClient
{
    /// <summary>Stores a chunk. True when the node created it, false when it already had it. Throws <see cref="StorageNodeException"/>.</summary>
    Task<bool> PutChunkAsync(Uri node, string chunkId, ReadOnlyMemory<byte> data, CancellationToken ct = default);

    /// <summary>Stores a chunk from a stream of known length (node-to-node copies).</summary>
    Task<bool> PutChunkAsync(Uri node, string chunkId, Stream data, long length, CancellationToken ct = default);

    /// <summary>
    /// Stores a chunk on <paramref name="node"/> and, through it, on each of <paramref name="downstream"/> in turn (synchronous
    /// pipeline replication): answers once every copy it reports is fsynced. Throws <see cref="StorageNodeException"/> when
    /// <paramref name="node"/> itself kept no copy.
    /// </summary>
    Task<ChunkPipelineResult> PutChunkPipelineAsync(Uri node, string chunkId, HttpContent content, IReadOnlyList<Uri> downstream, TimeSpan hopTimeout,
        CancellationToken ct = default);

    /// <summary>Reads a whole chunk into <paramref name="buffer"/>; returns its length. Throws <see cref="StorageNodeException"/>.</summary>
    Task<int> ReadChunkAsync(Uri node, string chunkId, Memory<byte> buffer, CancellationToken ct = default);

    /// <summary>Opens a chunk (or an inclusive range of it) as a stream; dispose it.</summary>
    Task<Stream> OpenChunkAsync(Uri node, string chunkId, long? from = null, long? to = null, CancellationToken ct = default);

    Task<bool> HasChunkAsync(Uri node, string chunkId, CancellationToken ct = default);

    /// <summary>True when the node deleted it, false when it did not have it.</summary>
    Task<bool> DeleteChunkAsync(Uri node, string chunkId, CancellationToken ct = default);

    Task<ChunkInventoryPage> ListChunksAsync(Uri node, string? after = null, int limit = 1000, CancellationToken ct = default);

    Task<StorageNodeStatus> GetStatusAsync(Uri node, CancellationToken ct = default);
}

/// <summary>Why a storage call failed; callers choose to retry elsewhere by kind.</summary>
public enum StorageFailureKind
{
    Unreachable,
    Timeout,
    ServerError,
    Full,
    NotFound,
    /// <summary>The node refused the bytes (422: they do not hash to the id).</summary>
    IntegrityRejected,
    BadRequest,
}

public sealed class StorageNodeException(Uri node, StorageFailureKind kind, string message, Exception? inner = null)
    : Exception($"{node}: {message}", inner)
{
    public Uri Node { get; } = node;
    public StorageFailureKind Kind { get; } = kind;

    /// <summary>Another node (or a later try) may succeed.</summary>
    public bool IsRetryableElsewhere => Kind is not StorageFailureKind.BadRequest;
}

/// <summary>
/// What a pipelined chunk store made: <paramref name="Copies"/> durable copies on the first nodes of the chain and, when
/// that is fewer than the chain's length, what the first node without a copy failed with.
/// </summary>
public sealed record ChunkPipelineResult(int Copies, StorageFailureKind? FailureKind = null, string? Failure = null);
