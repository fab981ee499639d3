namespace Dfs.Gateway.Nodes;

/// <summary>
/// Chooses where a new chunk goes: a random live node, weighted by free space (as the first seed's random
/// primary, but balanced). Random placement needs no rebalancing when nodes join: a new node is used at once.
/// </summary>
public sealed class Placement(NodeRegistry registry, NodeSpeeds? speeds = null)
{
    public NodeView? Choose(long chunkSize, IReadOnlyCollection<Guid> exclude)
    {
        var fitting = registry.Snapshot()
            // A draining node is being emptied: a new chunk there would only have to move again.
            .Where(n => n.IsReadable && !n.Draining && !exclude.Contains(n.Id) && n.Usage.FreeBytes >= chunkSize)
            .ToList();
        // A suspect node has only missed a few heartbeats (a busy gateway or node): it is a last resort rather
        // than a refusal, since a failed store there is retried elsewhere anyway.
        var live = fitting.Where(n => n.IsLive).ToList();
        // A live node far slower than the others (NodeSpeeds) would hold every upload up: a last resort too.
        var candidates = speeds is null ? live : live.Where(n => !speeds.IsSlow(n.Id)).ToList();
        if (candidates.Count == 0) candidates = live;
        if (candidates.Count == 0) candidates = fitting;
        if (candidates.Count == 0) return null;

        // Weight by free space; +1 so nodes reporting 0 (not yet measured) still get a chance.
        double total = 0;
        foreach (var n in candidates) total += n.Usage.FreeBytes + 1.0;
        var pick = Random.Shared.NextDouble() * total;
        foreach (var n in candidates)
        {
            pick -= n.Usage.FreeBytes + 1.0;
            if (pick <= 0) return n;
        }
        return candidates[^1];
    }
}
