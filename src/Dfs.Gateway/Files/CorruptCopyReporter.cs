using Dfs.Contracts.Clients;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Files;

/// <summary>
/// A copy that failed its SHA-256 check, or that its node says it does not have, is taken out of service: its
/// replica record is dropped (so the chunk counts as under-replicated and the Replicator copies a good one
/// back) and the node deletes the file (a PUT of an id the node already has is a no-op, so a bad file would
/// otherwise stay).
/// </summary>
public sealed class CorruptCopyReporter(IServiceScopeFactory scopes, IStorageNodeClient nodes, ILogger<CorruptCopyReporter> logger)
{
    public void Report(string chunkId, NodeView node) => _ = ReplaceAsync(chunkId, node, "corrupt");

    /// <summary>
    /// The node answered 404 for a copy the metadata says it holds (its file was lost or removed behind its back).
    /// Left recorded, the copy would keep counting toward the replication factor and never be replaced.
    /// </summary>
    public void ReportMissing(string chunkId, NodeView node) => _ = ReplaceAsync(chunkId, node, "missing");

    /// <summary>
    /// The node's scrubber found the copy corrupt and has already taken it out of service (quarantined, so no DELETE
    /// is sent). Awaited, unlike the reports of the read path: the node keeps its report until this has committed.
    /// </summary>
    public async Task ReportScrubbedAsync(string chunkId, NodeView node, CancellationToken ct)
    {
        var dropped = await DropRecordAsync(chunkId, node, ct);
        if (dropped > 0)
            logger.LogWarning("Node {Node}'s scrubber found its copy of chunk {Chunk} corrupt; dropped the copy, it will be re-replicated from a good one",
                node.Name, chunkId);
    }

    private async Task ReplaceAsync(string chunkId, NodeView node, string what)
    {
        try
        {
            await DropRecordAsync(chunkId, node, CancellationToken.None);
            await nodes.DeleteChunkAsync(node.Url, chunkId);
            logger.LogWarning("Dropped the {What} copy of chunk {Chunk} on {Node}; it will be re-replicated from a good copy", what, chunkId, node.Name);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not drop the {What} copy of chunk {Chunk} on {Node}", what, chunkId, node.Name);
        }
    }

    private async Task<int> DropRecordAsync(string chunkId, NodeView node, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        return await db.Replicas.Where(r => r.ChunkId == chunkId && r.NodeId == node.Id).ExecuteDeleteAsync(ct);
    }
}
