using Dfs.Contracts.Clients;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Files;

/// <summary>
/// A copy that failed its SHA-256 check is taken out of service: its replica record is dropped (so the
/// chunk counts as under-replicated and the Replicator copies a good one back) and the node deletes the
/// file (a PUT of an id the node already has is a no-op, so the bad file would otherwise stay).
/// </summary>
public sealed class CorruptCopyReporter(IServiceScopeFactory scopes, IHttpClientFactory httpClients, ILogger<CorruptCopyReporter> logger)
{
    public void Report(string chunkId, NodeView node) => _ = ReplaceAsync(chunkId, node);

    private async Task ReplaceAsync(string chunkId, NodeView node)
    {
        try
        {
            await using (var scope = scopes.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
                await db.Replicas.Where(r => r.ChunkId == chunkId && r.NodeId == node.Id).ExecuteDeleteAsync();
            }
            await new StorageNodeClient(httpClients.CreateClient(nameof(CorruptCopyReporter))).DeleteChunkAsync(node.Url, chunkId);
            logger.LogWarning("Dropped the corrupt copy of chunk {Chunk} on {Node}; it will be re-replicated from a good copy", chunkId, node.Name);
        }
        catch (Exception e)
        {
            logger.LogError(e, "Could not drop the corrupt copy of chunk {Chunk} on {Node}", chunkId, node.Name);
        }
    }
}
