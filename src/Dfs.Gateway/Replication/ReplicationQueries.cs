using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Replication;

/// <summary>
/// How far each chunk is from its replication factor. A chunk wants the highest factor among the file
/// versions that reference it; only copies on nodes that are not dead, not draining, and whose inventory has
/// been checked since they came back count. A chunk below its factor is under-replicated whatever the node
/// count (a factor above the live nodes is accepted and reported, never a failed write); the Replicator's
/// work is the part of that it can do now: below min(factor, live nodes that are not draining), with a
/// readable copy to copy from. A copy on a draining node still serves reads and repairs, so a chunk held
/// only there is work, not lost.
/// </summary>
public sealed class ReplicationQueries(MetadataDbContext db, NodeRegistry registry)
{
    public async Task<IReadOnlyList<ChunkWork>> UnderReplicatedAsync(int limit, CancellationToken ct)
    {
        var nodes = CountedNodes();
        if (nodes.Live == 0) return [];
        var (counted, draining, live) = nodes;
        var rows = await (from w in Wanted()
                          let have = db.Replicas.Count(r => r.ChunkId == w.ChunkId && counted.Contains(r.NodeId))
                          // A chunk with no readable copy cannot be repaired (no source): it is reported, not handed out as work.
                          where (have > 0 || db.Replicas.Any(r => r.ChunkId == w.ChunkId && draining.Contains(r.NodeId)))
                                && have < (w.Wanted < live ? w.Wanted : live)
                          orderby have, w.ChunkId
                          select new { w.ChunkId, w.Size, w.Wanted }).Take(limit).ToListAsync(ct);
        return await WithHoldersAsync(rows.Select(r => (r.ChunkId, r.Size, r.Wanted)).ToList(), nodes, ct);
    }

    /// <summary>
    /// Chunks below their factor, those of them the Replicator can repair now (the backlog, the same chunks
    /// <see cref="UnderReplicatedAsync"/> hands out), and chunks with no readable copy at all.
    /// </summary>
    public async Task<ReplicationCounts> CountAsync(CancellationToken ct)
    {
        var (counted, draining, live) = CountedNodes();
        var haves = from w in Wanted()
                    select new
                    {
                        w.Wanted,
                        Have = db.Replicas.Count(r => r.ChunkId == w.ChunkId && counted.Contains(r.NodeId)),
                        Readable = db.Replicas.Any(r => r.ChunkId == w.ChunkId && (counted.Contains(r.NodeId) || draining.Contains(r.NodeId))),
                    };
        var under = await haves.LongCountAsync(h => h.Have < h.Wanted, ct);
        var repairable = live == 0 ? 0 : await haves.LongCountAsync(h => h.Readable && h.Have < (h.Wanted < live ? h.Wanted : live), ct);
        var unreadable = await haves.LongCountAsync(h => !h.Readable, ct);
        return new ReplicationCounts(under, repairable, unreadable);
    }

    /// <summary>Current holders and wanted copies of specific chunks (for the Replicator's idempotent handling of events).</summary>
    public async Task<IReadOnlyList<ChunkWork>> StateAsync(IReadOnlyList<string> chunkIds, CancellationToken ct)
    {
        var ids = chunkIds.Distinct().ToList();
        // Filtered before grouping: a HAVING over the grouped table would aggregate every chunk of every file.
        var rows = await Wanted(ids).ToListAsync(ct);
        return await WithHoldersAsync(rows.Select(r => (r.ChunkId, r.Size, r.Wanted)).ToList(), CountedNodes(), ct);
    }

    /// <summary>
    /// What removing <paramref name="node"/> would cost: the chunks it holds, and those of them (still referenced by a
    /// file) without enough copies on other counted nodes, where enough is min(wanted, other live nodes that are not
    /// draining), and at least 1 — the Replicator's own target, so a finished drain always reaches zero.
    /// </summary>
    public async Task<NodeDrainStatus> DrainStatusAsync(NodeView node, CancellationToken ct)
    {
        var nodes = registry.Snapshot();
        var counted = nodes.Where(n => n.CopiesCount && n.Id != node.Id).Select(n => n.Id).ToList();
        var enough = Math.Max(1, nodes.Count(n => n.IsLive && !n.Draining && n.Id != node.Id));
        var id = node.Id;

        var held = await db.Replicas.LongCountAsync(r => r.NodeId == id, ct);
        var atRisk = await (from r in db.Replicas
                            where r.NodeId == id
                            let wanted = (from vc in db.VersionChunks
                                          join v in db.Versions on vc.VersionId equals v.Id
                                          where vc.ChunkId == r.ChunkId
                                          select (int?)v.ReplicationFactor).Max()
                            // Garbage (no file refers to it any more) needs no copy.
                            where wanted != null
                            let have = db.Replicas.Count(o => o.ChunkId == r.ChunkId && counted.Contains(o.NodeId))
                            where have < (wanted < enough ? wanted : enough)
                            select r.ChunkId).LongCountAsync(ct);
        return new NodeDrainStatus(node.Id, node.Name, node.Draining, held, atRisk, node.Draining && atRisk == 0);
    }

    private IQueryable<WantedChunk> Wanted(List<string>? only = null) =>
        from vc in only is null ? db.VersionChunks : db.VersionChunks.Where(c => only.Contains(c.ChunkId))
        join v in db.Versions on vc.VersionId equals v.Id
        // The metadata store keeps inline chunks: no node copy is wanted.
        where !db.InlineChunks.Any(i => i.ChunkId == vc.ChunkId)
        group new { v.ReplicationFactor, vc.Size } by vc.ChunkId into g
        select new WantedChunk { ChunkId = g.Key, Wanted = g.Max(x => x.ReplicationFactor), Size = g.Max(x => x.Size) };

    /// <summary>Nodes whose copies count, draining nodes whose copies are sources only, and the live nodes that can take copies.</summary>
    private NodeSets CountedNodes()
    {
        var nodes = registry.Snapshot();
        return new NodeSets(
            nodes.Where(n => n.CopiesCount).Select(n => n.Id).ToList(),
            nodes.Where(n => n.DrainingSource).Select(n => n.Id).ToList(),
            nodes.Count(n => n.IsLive && !n.Draining));
    }

    private async Task<IReadOnlyList<ChunkWork>> WithHoldersAsync(List<(string ChunkId, long Size, int Wanted)> rows, NodeSets nodes, CancellationToken ct)
    {
        var ids = rows.Select(r => r.ChunkId).ToList();
        var readable = nodes.Counted.Concat(nodes.Draining).ToList();
        var replicas = await db.Replicas.Where(r => ids.Contains(r.ChunkId) && readable.Contains(r.NodeId))
            .Select(r => new { r.ChunkId, r.NodeId }).ToListAsync(ct);
        var draining = nodes.Draining.ToHashSet();
        var holders = replicas.Where(r => !draining.Contains(r.NodeId)).ToLookup(r => r.ChunkId, r => r.NodeId);
        var drainingHolders = replicas.Where(r => draining.Contains(r.NodeId)).ToLookup(r => r.ChunkId, r => r.NodeId);
        return rows.Select(r => new ChunkWork(r.ChunkId, r.Size, r.Wanted, holders[r.ChunkId].ToList(),
            drainingHolders.Contains(r.ChunkId) ? drainingHolders[r.ChunkId].ToList() : null)).ToList();
    }

    public readonly record struct ReplicationCounts(long UnderReplicated, long Repairable, long Unreadable);

    private sealed record NodeSets(List<Guid> Counted, List<Guid> Draining, int Live);

    private sealed class WantedChunk
    {
        public required string ChunkId { get; init; }
        public int Wanted { get; init; }
        public long Size { get; init; }
    }
}
