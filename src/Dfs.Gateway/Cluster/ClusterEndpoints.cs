using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Cluster;

public static class ClusterEndpoints
{
    public static RouteGroupBuilder MapClusterEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/cluster", async (MetadataDbContext db, NodeRegistry registry, IOptions<GatewayOptions> options, CancellationToken ct) =>
                TypedResults.Ok(await SummarizeAsync(db, registry.Snapshot(), options.Value, ct)))
            .WithName("Cluster").WithTags("Cluster").WithSummary("Counts of nodes, files, chunks and bytes.");
        return api;
    }

    /// <summary>What GET /api/cluster answers, for <paramref name="nodes"/> (a snapshot the caller may show beside it).</summary>
    public static async Task<ClusterSummary> SummarizeAsync(MetadataDbContext db, IReadOnlyList<NodeView> nodes, GatewayOptions options, CancellationToken ct)
    {
        var files = await db.Entries.LongCountAsync(e => e.Kind == EntryKind.File, ct);
        var dirs = await db.Entries.LongCountAsync(e => e.Kind == EntryKind.Directory, ct);
        var chunks = await db.Chunks.LongCountAsync(ct);
        var stored = await db.Versions.SumAsync(v => (long?)v.Size, ct) ?? 0;
        var live = nodes.Where(n => n.State != NodeStates.Dead).ToList();
        return new ClusterSummary(
            nodes.Count(n => n.IsLive), nodes.Count(n => n.State == NodeStates.Dead), files, dirs, chunks, stored,
            live.Sum(n => n.Usage.CapacityBytes), live.Sum(n => n.Usage.FreeBytes),
            options.ReplicationFactor, options.ChunkSizeBytes, nodes.Count(n => n.Draining));
    }
}
