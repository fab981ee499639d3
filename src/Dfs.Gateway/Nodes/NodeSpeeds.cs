using System.Collections.Concurrent;

namespace Dfs.Gateway.Nodes;

/// <summary>
/// How fast each node has moved chunks lately (milliseconds per MiB, smoothed over its recent stores and reads), and
/// which nodes are far slower than the rest. A node on a failing disk or a congested link keeps heartbeating, so it
/// stays live; without this every client would end up waiting on it. A slow node gets no new chunks while other live
/// nodes can take them and is read last; the mark fades <see cref="Memory"/> after its last measurement, so a node that
/// recovered is tried again (a node no longer chosen is measured by nothing else). When a node turns slow, the requests
/// already in flight to it are failed too (<see cref="NodeRegistry.AbandonRequests"/>): they share its slow link, and
/// would otherwise hold their clients until it heals.
/// </summary>
public sealed class NodeSpeeds(TimeProvider clock, NodeRegistry? registry = null)
{
    /// <summary>Smaller transfers measure the request's round trip more than the link or the disk.</summary>
    public const long MinMeasuredBytes = 64 * 1024;

    /// <summary>Slower than this (2 MiB/s) and <see cref="SlowFactor"/> times the others' median: slow.</summary>
    public const double SlowMsPerMiB = 500;

    public const double SlowFactor = 8;

    public static readonly TimeSpan Memory = TimeSpan.FromSeconds(10);

    private const double MiB = 1024 * 1024;
    private readonly ConcurrentDictionary<Guid, Speed> _speeds = new();

    /// <summary>A chunk of <paramref name="bytes"/> went to or came from the node in <paramref name="elapsed"/>.</summary>
    public void Record(Guid nodeId, long bytes, TimeSpan elapsed)
    {
        if (bytes < MinMeasuredBytes) return;
        var sample = elapsed.TotalMilliseconds / (bytes / MiB);
        var now = clock.GetUtcNow();
        var wasSlow = IsSlow(nodeId);
        // Half the old, half the new: one outlier moves it only so far, two in a row settle it.
        _speeds.AddOrUpdate(nodeId, new Speed(sample, now), (_, old) => new Speed(IsCurrent(old, now) ? (old.MsPerMiB + sample) / 2 : sample, now));
        if (!wasSlow && IsSlow(nodeId)) registry?.AbandonRequests(nodeId);
    }

    public bool IsSlow(Guid nodeId)
    {
        var now = clock.GetUtcNow();
        if (!_speeds.TryGetValue(nodeId, out var speed) || !IsCurrent(speed, now) || speed.MsPerMiB < SlowMsPerMiB) return false;
        var others = _speeds.Where(p => p.Key != nodeId && IsCurrent(p.Value, now)).Select(p => p.Value.MsPerMiB).Order().ToList();
        return others.Count > 0 && speed.MsPerMiB > SlowFactor * others[others.Count / 2];
    }

    /// <summary>
    /// How long moving <paramref name="bytes"/> takes at the median pace (the lower one of an even count) of the nodes measured lately; null when none was.
    /// A transfer that takes several times this is waiting on something other than the work (see HedgeDelay).
    /// </summary>
    public TimeSpan? Typical(long bytes)
    {
        var now = clock.GetUtcNow();
        var current = _speeds.Values.Where(s => IsCurrent(s, now)).Select(s => s.MsPerMiB).Order().ToList();
        return current.Count == 0 ? null : TimeSpan.FromMilliseconds(current[(current.Count - 1) / 2] * bytes / MiB);
    }

    /// <summary>
    /// How long a transfer of <paramref name="bytes"/> may go unanswered before it is hedged on another node: several times
    /// its <see cref="Typical"/> time, never under <paramref name="floorMs"/> (Dfs:Gateway:HedgeAfterMs); null when that is 0
    /// (no hedging). Without a recent measurement (an idle cluster) the pace is unknown: the floor stands for a typical time.
    /// </summary>
    public TimeSpan? HedgeDelay(long bytes, int floorMs)
    {
        if (floorMs == 0) return null;
        var typical = Typical(bytes) ?? TimeSpan.FromMilliseconds(floorMs);
        return TimeSpan.FromMilliseconds(Math.Max(floorMs, HedgeFactor * typical.TotalMilliseconds));
    }

    /// <summary>How many times a transfer's typical time it may take before it is hedged.</summary>
    public const int HedgeFactor = 4;

    private static bool IsCurrent(Speed speed, DateTimeOffset now) => now - speed.At <= Memory;

    private readonly record struct Speed(double MsPerMiB, DateTimeOffset At);
}
