using Dfs.Contracts.Api;
using Dfs.Gateway.Http;
using Dfs.Gateway.Replication;

namespace Dfs.Gateway.Nodes;

/// <summary>
/// Draining and removing storage nodes. A draining node keeps serving reads and is a copy source, but takes no
/// new chunks and its copies do not count, so the Replicator copies everything it holds elsewhere; once nothing
/// on it is at risk it can be stopped and removed without any chunk losing a copy.
/// </summary>
public sealed class NodeDrains(NodeRegistry registry, ReplicationQueries queries)
{
    /// <summary>A node by id or by name; a name shared by several records (a node that came back with a new id)
    /// means the one that is not dead, and is refused when that is still ambiguous.</summary>
    public NodeView Resolve(string node)
    {
        if (Guid.TryParse(node, out var id))
            return registry.Find(id) ?? throw Unknown(node);

        var named = registry.Snapshot().Where(n => n.Name == node).ToList();
        if (named.Count > 1) named = named.Where(n => n.IsReadable).ToList();
        return named.Count switch
        {
            1 => named[0],
            0 => throw Unknown(node),
            _ => throw DfsProblemException.Conflict(
                $"Several nodes are named '{node}' ({string.Join(", ", named.Select(n => n.Id))}): use the node's id."),
        };
    }

    public async Task<NodeDrainStatus> StartAsync(NodeView node, CancellationToken ct) =>
        await queries.DrainStatusAsync(await registry.StartDrainAsync(node.Id, ct) ?? throw Unknown(node.Id.ToString()), ct);

    public async Task<NodeDrainStatus> CancelAsync(NodeView node, CancellationToken ct) =>
        await queries.DrainStatusAsync(await registry.CancelDrainAsync(node.Id, ct) ?? throw Unknown(node.Id.ToString()), ct);

    public Task<NodeDrainStatus> StatusAsync(NodeView node, CancellationToken ct) => queries.DrainStatusAsync(node, ct);

    /// <summary>Removes a drained node; with <paramref name="force"/> any node (the Replicator repairs from other copies).</summary>
    public async Task RemoveAsync(NodeView node, bool force, CancellationToken ct)
    {
        if (!force)
        {
            var status = await queries.DrainStatusAsync(node, ct);
            if (!status.Drained)
            {
                var why = status.Draining
                    ? $"it is still draining: {status.ChunksAtRisk} of its {status.ChunksHeld} chunks do not yet have enough copies on other nodes."
                    : $"it is not drained ({status.ChunksAtRisk} of its {status.ChunksHeld} chunks do not have enough copies on other nodes). "
                      + $"Drain it first (POST {ApiRoutes.NodeDrain(node.Name)}) and wait until drained is true.";
                throw DfsProblemException.Conflict($"Node {node.Name} cannot be removed: {why} Use force=true to remove it anyway.");
            }
        }
        if (!await registry.RemoveAsync(node.Id, ct)) throw Unknown(node.Id.ToString());
    }

    private static DfsProblemException Unknown(string node) =>
        new(StatusCodes.Status404NotFound, "Unknown node", $"No storage node has the id or name '{node}'.");
}
