using Dfs.Contracts.Clients;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Files;

/// <summary>
/// Removes chunks no version references any more (deleted or overwritten files), nor any part of an S3 multipart upload
/// in progress, from every node that holds them, and chunks a node holds that the metadata never knew (uploads that never
/// committed), each once it has stayed garbage for the grace period. Space reported by the nodes goes back down.
/// </summary>
public sealed class GarbageCollector(
    IServiceScopeFactory scopes,
    NodeRegistry registry,
    IChunkLeases leases,
    IStorageNodeClient nodes,
    IOptions<GatewayOptions> options,
    TimeProvider clock,
    GatewayMetrics metrics,
    ILogger<GarbageCollector> logger) : BackgroundService
{
    private readonly Dictionary<string, DateTimeOffset> _unreferencedSince = new(StringComparer.Ordinal);
    private readonly Dictionary<(Guid Node, string Chunk), DateTimeOffset> _unknownSince = [];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(options.Value.GcIntervalMs), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    await CollectAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(e, "Garbage collection pass failed; trying again next round");
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public async Task CollectAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        var nodeClient = nodes;
        var grace = TimeSpan.FromMilliseconds(options.Value.GcGraceMs);
        var now = clock.GetUtcNow();
        var removed = await CollectUnreferencedAsync(db, nodeClient, now, grace, ct);
        removed += await CollectUnknownAsync(db, nodeClient, now, grace, ct);
        if (removed > 0) logger.LogInformation("Garbage collection removed {Count} chunk copies", removed);
    }

    private async Task<int> CollectUnreferencedAsync(MetadataDbContext db, IStorageNodeClient nodeClient, DateTimeOffset now, TimeSpan grace, CancellationToken ct)
    {
        var unreferenced = await db.Chunks.Where(c => !db.VersionChunks.Any(v => v.ChunkId == c.Id) && !db.MultipartPartChunks.Any(p => p.ChunkId == c.Id))
            .Select(c => c.Id).Take(options.Value.GcBatchSize).ToListAsync(ct);
        var current = unreferenced.ToHashSet(StringComparer.Ordinal);
        foreach (var gone in _unreferencedSince.Keys.Where(id => !current.Contains(id)).ToList()) _unreferencedSince.Remove(gone);

        var removed = 0;
        foreach (var chunkId in unreferenced)
        {
            var since = _unreferencedSince.TryGetValue(chunkId, out var seen) ? seen : _unreferencedSince[chunkId] = now;
            if (now - since < grace) continue;
            await using var lease = await leases.TryAcquireForDeleteAsync(chunkId, ct);
            if (lease is null) continue;
            // Still garbage now that no upload can take it?
            if (await db.VersionChunks.AnyAsync(v => v.ChunkId == chunkId, ct) || await db.MultipartPartChunks.AnyAsync(p => p.ChunkId == chunkId, ct)) continue;

            var holders = await db.Replicas.Where(r => r.ChunkId == chunkId).Select(r => r.NodeId).ToListAsync(ct);
            var left = 0;
            foreach (var nodeId in holders)
            {
                if (registry.Find(nodeId) is { IsLive: true } node && await TryDeleteAsync(nodeClient, node, chunkId, ct))
                {
                    await db.Replicas.Where(r => r.ChunkId == chunkId && r.NodeId == nodeId).ExecuteDeleteAsync(ct);
                    removed++;
                }
                else left++;
            }
            if (left == 0)
            {
                await db.InlineChunks.Where(c => c.ChunkId == chunkId).ExecuteDeleteAsync(ct);
                await db.Chunks.Where(c => c.Id == chunkId).ExecuteDeleteAsync(ct);
                _unreferencedSince.Remove(chunkId);
                metrics.ChunkCollected();
            }
        }
        return removed;
    }

    private async Task<int> CollectUnknownAsync(MetadataDbContext db, IStorageNodeClient nodeClient, DateTimeOffset now, TimeSpan grace, CancellationToken ct)
    {
        var removed = 0;
        var seenNow = new HashSet<(Guid, string)>();
        foreach (var node in registry.Snapshot().Where(n => n.IsLive))
        {
            string? after = null;
            do
            {
                var page = await nodeClient.ListChunksAsync(node.Url, after, 1000, ct);
                var ids = page.Chunks.Select(c => c.Id).ToList();
                var known = (await db.Chunks.Where(c => ids.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
                foreach (var id in ids.Where(id => !known.Contains(id)))
                {
                    var key = (node.Id, id);
                    seenNow.Add(key);
                    var since = _unknownSince.TryGetValue(key, out var seen) ? seen : _unknownSince[key] = now;
                    if (now - since < grace) continue;
                    // An upload holding it (on any gateway) keeps it; so does a commit that made it known meanwhile.
                    await using var lease = await leases.TryAcquireForDeleteAsync(id, ct);
                    if (lease is null || await db.Chunks.AnyAsync(c => c.Id == id, ct)) continue;
                    if (await TryDeleteAsync(nodeClient, node, id, ct)) removed++;
                    _unknownSince.Remove(key);
                }
                after = page.NextAfter;
            } while (after is not null);
        }
        foreach (var gone in _unknownSince.Keys.Where(k => !seenNow.Contains(k)).ToList()) _unknownSince.Remove(gone);
        return removed;
    }

    private async Task<bool> TryDeleteAsync(IStorageNodeClient nodeClient, NodeView node, string chunkId, CancellationToken ct)
    {
        try
        {
            await nodeClient.DeleteChunkAsync(node.Url, chunkId, ct);
            return true;
        }
        catch (StorageNodeException e)
        {
            logger.LogWarning("Could not delete chunk {Chunk} from {Node}: {Error}", chunkId, node.Name, e.Message);
            return false;
        }
    }
}
