using System.Collections.Concurrent;

namespace Dfs.Gateway.Shared;

/// <summary>One gateway alone (embedded, or no cache configured): epochs live in this process, buckets are local.</summary>
public sealed class InProcessSharedState : ISharedState
{
    private readonly ConcurrentDictionary<SharedEpoch, string> _epochs = new();

    public bool IsShared => false;

    public ValueTask<string?> ReadEpochAsync(SharedEpoch epoch) => ValueTask.FromResult<string?>(_epochs.GetOrAdd(epoch, _ => NewEpoch()));

    public Task AdvanceEpochAsync(SharedEpoch epoch)
    {
        _epochs[epoch] = NewEpoch();
        return Task.CompletedTask;
    }

    public ValueTask<RateDecision?> TryTakeTokenAsync(string bucket, int perSecond, int burst) => ValueTask.FromResult<RateDecision?>(null);

    public event Action? LinkChanged
    {
        add { }
        remove { }
    }

    internal static string NewEpoch() => Guid.NewGuid().ToString("N");
}
