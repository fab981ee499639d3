using Dfs.Replicator.Hosting;
using MassTransit;

namespace Dfs.Replicator.Consumers;

public static class ReplicatorRetry
{
    /// <summary>
    /// The waits before each retry: ImmediateRetries zeros, then min(Max, Min + Delta × (2^i − 1)) for each
    /// exponential retry. One interval policy, because MassTransit keeps only the last policy set on a retry
    /// configurator: <c>r.Immediate(n); r.Exponential(…)</c> would silently drop the immediate retries.
    /// </summary>
    public static TimeSpan[] Intervals(ReplicatorRetryOptions retry)
    {
        var immediate = Enumerable.Repeat(TimeSpan.Zero, retry.ImmediateRetries);
        var exponential = Enumerable.Range(0, retry.ExponentialRetries).Select(i =>
            TimeSpan.FromMilliseconds(Math.Min(retry.MaxBackoffMs, retry.MinBackoffMs + retry.DeltaBackoffMs * (Math.Pow(2, i) - 1))));
        return [.. immediate, .. exponential];
    }

    /// <summary>Attempts a message gets before it goes to the error queue.</summary>
    public static int Attempts(ReplicatorRetryOptions retry) => 1 + retry.ImmediateRetries + retry.ExponentialRetries;

    public static void UseReplicatorRetry(this IReceiveEndpointConfigurator endpoint, ReplicatorRetryOptions retry)
    {
        var intervals = Intervals(retry);
        if (intervals.Length > 0) endpoint.UseMessageRetry(r => r.Intervals(intervals));
    }
}
