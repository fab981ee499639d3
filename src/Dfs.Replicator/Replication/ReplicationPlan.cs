using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;

namespace Dfs.Replicator.Replication;

/// <summary>Who can give a chunk, who can take it, and how many copies to make, from the gateway's view of the nodes.</summary>
internal sealed record ReplicationPlan(
    IReadOnlyList<NodeInfo> Sources,
    IReadOnlyList<NodeInfo> Targets,
    int HoldersBefore,
    int Target)
{
    public int CopiesNeeded => Math.Max(0, Target - HoldersBefore);

    public static ReplicationPlan Create(ChunkWork chunk, IReadOnlyList<NodeInfo> nodes)
    {
        var byId = new Dictionary<Guid, NodeInfo>();
        // A node whose address cannot be used is no use as a source or a target.
        foreach (var node in nodes)
            if (TryNodeUri(node, out _)) byId.TryAdd(node.Id, node);

        // Copies on draining nodes are sources, not copies: the node is about to go. The node list may know of a
        // drain the work item does not yet, so a holder it calls draining is treated as one too.
        var drainingIds = (chunk.DrainingHolders ?? []).ToHashSet();
        var holderIds = chunk.Holders.ToHashSet();
        // Holders the node list does not know or calls dead cannot serve a read and do not count as copies.
        var readable = holderIds.Concat(drainingIds).Distinct()
            .Select(id => byId.GetValueOrDefault(id)).OfType<NodeInfo>().Where(n => !IsDead(n)).ToList();
        var holders = readable.Where(n => holderIds.Contains(n.Id) && !drainingIds.Contains(n.Id) && !n.Draining).ToList();

        // Live holders first, then suspect ones; shuffled within each group to spread the read load.
        var sources = Shuffle(readable.Where(IsLive)).Concat(Shuffle(readable.Where(n => !IsLive(n)))).ToList();

        // Only live nodes that are not draining take new copies, and never one that holds the chunk already (a
        // draining holder's copy is still there). Most free space first; those with room for the chunk before the
        // rest (a stale free-space figure may still be wrong, so they are tried last rather than never).
        var targets = byId.Values
            .Where(n => IsLive(n) && !n.Draining && !holderIds.Contains(n.Id) && !drainingIds.Contains(n.Id))
            .Select(n => (Node: n, Tie: Random.Shared.Next()))
            .OrderByDescending(t => t.Node.FreeBytes >= chunk.Size)
            .ThenByDescending(t => t.Node.FreeBytes / ChunkReplicator.FreeSpaceBucketBytes)
            .ThenBy(t => t.Tie)
            .Select(t => t.Node)
            .ToList();

        var target = Math.Min(chunk.Wanted, holders.Count + targets.Count);
        return new ReplicationPlan(sources, targets, holders.Count, target);
    }

    /// <summary>The node's base address with a trailing slash, so chunk paths resolve under it.</summary>
    public static Uri NodeUri(NodeInfo node) =>
        TryNodeUri(node, out var uri) ? uri : throw new ArgumentException($"Node {node.Name} has no usable URL ('{node.Url}').", nameof(node));

    private static bool TryNodeUri(NodeInfo node, out Uri uri)
    {
        var url = node.Url ?? "";
        if (Uri.TryCreate(url.EndsWith('/') ? url : url + "/", UriKind.Absolute, out var parsed)
            && (parsed.Scheme == Uri.UriSchemeHttp || parsed.Scheme == Uri.UriSchemeHttps))
        {
            uri = parsed;
            return true;
        }
        uri = null!;
        return false;
    }

    private static bool IsLive(NodeInfo node) => string.Equals(node.State, NodeStates.Live, StringComparison.OrdinalIgnoreCase);

    private static bool IsDead(NodeInfo node) =>
        !IsLive(node) && !string.Equals(node.State, NodeStates.Suspect, StringComparison.OrdinalIgnoreCase);

    private static IEnumerable<NodeInfo> Shuffle(IEnumerable<NodeInfo> nodes)
    {
        var array = nodes.ToArray();
        Random.Shared.Shuffle(array);
        return array;
    }
}
