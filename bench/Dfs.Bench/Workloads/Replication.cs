using System.Diagnostics;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Bench.Workloads;

/// <summary>Waiting on the Replicator, by polling what the gateway reports.</summary>
public static class Replication
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Polls until every chunk of the file has <paramref name="copies"/> copies on distinct live nodes other than
    /// <paramref name="excluded"/> (a node just killed still counts as live until the gateway notices); returns the seconds waited.
    /// </summary>
    public static async Task<double> WaitForCopiesAsync(IGatewayApi dfs, string path, int copies, string? excluded, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var stat = await dfs.StatAsync(path, ct);
            var low = stat.Chunks.Count(c => LiveCopies(c, excluded) < copies);
            if (low == 0) return Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (Stopwatch.GetElapsedTime(started) > timeout)
                throw new TimeoutException($"{path}: {low} of {stat.Chunks.Count} chunks still below {copies} live copies after {timeout.TotalSeconds:F0} s.");
            await Task.Delay(Poll, ct);
        }
    }

    public static int LiveCopies(ChunkInfo chunk, string? excluded) =>
        chunk.Replicas.Where(r => r.NodeState == NodeStates.Live && r.NodeName != excluded).Select(r => r.NodeId).Distinct().Count();

    /// <summary>Polls until the Replicator's backlog is empty (no chunk it can repair is below its factor); returns the seconds waited.</summary>
    public static async Task<double> WaitForNoBacklogAsync(IGatewayApi dfs, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var status = await dfs.GetReplicationAsync(ct);
            if (status is { RepairableChunks: 0 }) return Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (Stopwatch.GetElapsedTime(started) > timeout)
                throw new TimeoutException($"{status?.RepairableChunks} chunks still in the replication backlog after {timeout.TotalSeconds:F0} s.");
            await Task.Delay(Poll * 2, ct);
        }
    }

    /// <summary>Polls /api/nodes until the named node is in <paramref name="state"/>; returns the seconds waited.</summary>
    public static async Task<double> WaitForNodeStateAsync(IGatewayApi dfs, string node, string state, TimeSpan timeout, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        while (true)
        {
            var nodes = await dfs.GetNodesAsync(ct);
            if (nodes.Any(n => n.Name == node && n.State == state)) return Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (Stopwatch.GetElapsedTime(started) > timeout)
                throw new TimeoutException($"{node} is not {state} after {timeout.TotalSeconds:F0} s (it is {nodes.FirstOrDefault(n => n.Name == node)?.State ?? "unknown"}).");
            await Task.Delay(Poll, ct);
        }
    }
}
