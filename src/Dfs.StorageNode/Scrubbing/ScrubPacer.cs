namespace Dfs.StorageNode.Scrubbing;

/// <summary>
/// Paces reads to a byte rate without burst credit: each grant pushes the next one bytes/rate later, and time spent
/// idle is not saved up, so over any window the scrubber reads at most rate × window plus one grant.
/// </summary>
internal sealed class ScrubPacer(long bytesPerSecond, TimeProvider clock)
{
    private long _next;

    public async ValueTask WaitAsync(long bytes, CancellationToken ct)
    {
        var now = clock.GetTimestamp();
        var start = Math.Max(now, _next);
        // From the grant's start, not from when the delay ends: a late wake-up is not paid for twice.
        _next = start + (long)(bytes * (double)clock.TimestampFrequency / bytesPerSecond);
        if (start > now) await Task.Delay(clock.GetElapsedTime(now, start), clock, ct);
    }
}
