using Dfs.Contracts.Internal;
using Refit;

namespace Dfs.Contracts.Clients;

/// <summary>
/// A storage node's API, one client per node (its advertised URL as base address; <see cref="StorageNodeClient"/> keeps
/// them). Chunk calls answer the raw <see cref="HttpResponseMessage"/>: the callers read bodies into pooled buffers or
/// stream them on, and sort failures by status (507 full, 422 bytes not matching the id, 404 gone).
/// </summary>
public interface IStorageNodeApi
{
    /// <summary>With <paramref name="downstream"/> (<see cref="ChunkPipelineHeaders"/>), the node forwards the bytes down that chain as it stores them.</summary>
    [Put("/chunks/{chunkId}")]
    Task<HttpResponseMessage> PutChunkAsync(string chunkId, [Body] HttpContent content,
        [Header(ChunkPipelineHeaders.Downstream)] string? downstream = null, [Header(ChunkPipelineHeaders.HopTimeout)] string? hopTimeoutSeconds = null,
        CancellationToken ct = default);

    [Get("/chunks/{chunkId}")]
    Task<HttpResponseMessage> GetChunkAsync(string chunkId, [Header("Range")] string? range = null, CancellationToken ct = default);

    [Head("/chunks/{chunkId}")]
    Task<HttpResponseMessage> HeadChunkAsync(string chunkId, CancellationToken ct = default);

    [Delete("/chunks/{chunkId}")]
    Task<HttpResponseMessage> DeleteChunkAsync(string chunkId, CancellationToken ct = default);

    [Get("/chunks")]
    Task<ChunkInventoryPage> ListChunksAsync([Query] string? after, [Query] int limit, CancellationToken ct = default);

    [Get("/status")]
    Task<StorageNodeStatus> GetStatusAsync(CancellationToken ct = default);
}
