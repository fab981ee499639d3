namespace Dfs.Bench.Measuring;

/// <summary>Samples the resident set size of named processes every 100 ms and keeps each one's maximum.</summary>
public sealed class RssSampler : IAsyncDisposable
{
    private readonly Func<IReadOnlyDictionary<string, int[]>> _groups;
    private readonly Dictionary<string, long> _peaks = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _anonPeaks = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;

    /// <param name="groups">Component name → pids; the peak of a component is the largest RSS any one of its processes reached.</param>
    public RssSampler(Func<IReadOnlyDictionary<string, int[]>> groups, TimeSpan? period = null)
    {
        _groups = groups;
        _loop = LoopAsync(period ?? TimeSpan.FromMilliseconds(100));
    }

    public int Samples { get; private set; }

    /// <summary>Largest VmRSS of any one process of each component.</summary>
    public IReadOnlyDictionary<string, long> Peaks
    {
        get { lock (_peaks) return new Dictionary<string, long>(_peaks); }
    }

    /// <summary>Largest RssAnon (private resident memory) of any one process of each component.</summary>
    public IReadOnlyDictionary<string, long> AnonPeaks
    {
        get { lock (_peaks) return new Dictionary<string, long>(_anonPeaks); }
    }

    private async Task LoopAsync(TimeSpan period)
    {
        using var timer = new PeriodicTimer(period);
        try
        {
            do Sample();
            while (await timer.WaitForNextTickAsync(_stop.Token));
        }
        catch (OperationCanceledException) { }
    }

    private void Sample()
    {
        var groups = _groups();
        lock (_peaks)
        {
            foreach (var (name, pids) in groups)
                foreach (var pid in pids)
                    if (ProcFs.Memory(pid) is { } memory)
                    {
                        _peaks[name] = Math.Max(_peaks.GetValueOrDefault(name), memory.Rss);
                        _anonPeaks[name] = Math.Max(_anonPeaks.GetValueOrDefault(name), memory.Anon);
                    }
            Samples++;
        }
    }

    private bool _disposed;

    /// <summary>Stops sampling after one last sample; safe to call more than once.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        await _stop.CancelAsync();
        await _loop;
        Sample();
        _stop.Dispose();
    }
}
