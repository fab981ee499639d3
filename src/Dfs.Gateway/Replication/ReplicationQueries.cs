using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Replication;

/// <summary>
/// How far each chunk is from its replication factor. A chunk wants the highest factor among the file
/// versions that reference it, capped by the number of live nodes; only copies on nodes that are not dead
/// (and whose inventory has been checked since they came back) count.
/// </summary>
public sealed class ReplicationQueries(MetadataDbContext db, NodeRegistry registry)
{
    public async Task<IReadOnlyList<ChunkWork>> UnderReplicatedAsync(int limit, CancellationToken ct)
    {
        var (counted, live) = CountedNodes();
        if (live == 0) return [];
        var rows = await (from w in Wanted()
                          let have = db.Replicas.Count(r => r.ChunkId == w.ChunkId && counted.Contains(r.NodeId))
                          // A chunk with no readable copy cannot be repaired (no source): it is reported, not handed out as work.
                          where have > 0 && have < (w.Wanted < live ? w.Wanted : live)
                          orderby have, w.ChunkId
                          select new { w.ChunkId, w.Size, w.Wanted }).Take(limit).ToListAsync(ct);
        return await WithHoldersAsync(rows.Select(r => (r.ChunkId, r.Size, r.Wanted)).ToList(), counted, ct);
    }

    public async Task<(long UnderReplicated, long Unreadable)> CountAsync(CancellationToken ct)
    {
        var (counted, live) = CountedNodes();
        var haves = from w in Wanted()
                    select new { w.Wanted, Have = db.Replicas.Count(r => r.ChunkId == w.ChunkId && counted.Contains(r.NodeId)) };
        var under = await haves.LongCountAsync(h => h.Have < (h.Wanted < live ? h.Wanted : live), ct);
        var unreadable = await haves.LongCountAsync(h => h.Have == 0, ct);
        return (under, unreadable);
    }

    /// <summary>Current holders and wanted copies of specific chunks (for the Replicator's idempotent handling of events).</summary>
    public async Task<IReadOnlyList<ChunkWork>> StateAsync(IReadOnlyList<string> chunkIds, CancellationToken ct)
    {
        var (counted, _) = CountedNodes();
        var ids = chunkIds.Distinct().ToList();
        var rows = await Wanted().Where(w => ids.Contains(w.ChunkId)).ToListAsync(ct);
        return await WithHoldersAsync(rows.Select(r => (r.ChunkId, r.Size, r.Wanted)).ToList(), counted, ct);
    }

    private IQueryable<WantedChunk> Wanted() =>
        from vc in db.VersionChunks
        join v in db.Versions on vc.VersionId equals v.Id
        group new { v.ReplicationFactor, vc.Size } by vc.ChunkId into g
        select new WantedChunk { ChunkId = g.Key, Wanted = g.Max(x => x.ReplicationFactor), Size = g.Max(x => x.Size) };

    private (List<Guid> Counted, int Live) CountedNodes()
    {
        var nodes = registry.Snapshot();
        return (nodes.Where(n => n.CopiesCount).Select(n => n.Id).ToList(), nodes.Count(n => n.IsLive));
    }

    private async Task<IReadOnlyList<ChunkWork>> WithHoldersAsync(List<(string ChunkId, long Size, int Wanted)> rows, List<Guid> counted, CancellationToken ct)
    {
        var ids = rows.Select(r => r.ChunkId).ToList();
        var holders = (await db.Replicas.Where(r => ids.Contains(r.ChunkId) && counted.Contains(r.NodeId))
                .Select(r => new { r.ChunkId, r.NodeId }).ToListAsync(ct))
            .ToLookup(r => r.ChunkId, r => r.NodeId);
        return rows.Select(r => new ChunkWork(r.ChunkId, r.Size, r.Wanted, holders[r.ChunkId].ToList())).ToList();
    }

    private sealed class WantedChunk
    {
        public required string ChunkId { get; init; }
        public int Wanted { get; init; }
        public long Size { get; init; }
    }
}
