using System.Threading.Channels;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Data;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Nodes;

/// <summary>
/// Before a node that (re)joined counts as a holder again, its inventory is compared with the replica
/// records: records of chunks it no longer has are dropped, so the Replicator restores them elsewhere.
/// </summary>
public sealed class ReplicaVerifier(
    NodeRegistry registry,
    IServiceScopeFactory scopes,
    IStorageNodeClient nodes,
    ILogger<ReplicaVerifier> logger) : BackgroundService
{
    private readonly Channel<Guid> _pending = Channel.CreateUnbounded<Guid>();

    public void Schedule(Guid nodeId)
    {
        registry.MarkUnverified(nodeId);
        _pending.Writer.TryWrite(nodeId);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var nodeId in _pending.Reader.ReadAllAsync(stoppingToken))
        {
            try
            {
                await VerifyAsync(nodeId, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning("Checking the inventory of node {Node} failed ({Error}); retrying", nodeId, e.Message);
                _ = RetryLaterAsync(nodeId, stoppingToken);
            }
        }
    }

    public async Task VerifyAsync(Guid nodeId, CancellationToken ct)
    {
        if (registry.Find(nodeId) is not { IsReadable: true } node) return;
        // The records first, the inventory after: a copy is recorded only once it is on disk, so a record read before the
        // listing began names a chunk the listing must show. The other way round, a chunk stored and recorded while the
        // listing ran would look missing, and dropping its record could leave a just-written file with no copy at all.
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        var recorded = await db.Replicas.Where(r => r.NodeId == nodeId).Select(r => r.ChunkId).ToListAsync(ct);

        var present = new HashSet<string>(StringComparer.Ordinal);
        string? after = null;
        do
        {
            var page = await nodes.ListChunksAsync(node.Url, after, 10_000, ct);
            foreach (var chunk in page.Chunks) present.Add(chunk.Id);
            after = page.NextAfter;
        } while (after is not null);

        var missing = recorded.Where(id => !present.Contains(id)).ToList();
        foreach (var batch in missing.Chunk(1000))
            await db.Replicas.Where(r => r.NodeId == nodeId && batch.Contains(r.ChunkId)).ExecuteDeleteAsync(ct);
        registry.MarkVerified(nodeId);
        logger.LogInformation("Node {Name}: {Present} chunks on disk, {Recorded} recorded, {Missing} missing records dropped",
            node.Name, present.Count, recorded.Count, missing.Count);
    }

    private async Task RetryLaterAsync(Guid nodeId, CancellationToken ct)
    {
        await Task.Delay(TimeSpan.FromSeconds(2), ct);
        _pending.Writer.TryWrite(nodeId);
    }
}
