namespace Dfs.Gateway.Files;

/// <summary>
/// Keeps garbage collection and uploads of the same content apart. Content addressing means a new upload may reuse a
/// chunk that collection is about to delete: an upload holds each chunk id from before it is stored until its commit is
/// over, and collection only deletes an id it can take exclusively (it waits for no one; an upload waits for a deletion
/// in progress, then stores the chunk again).
/// </summary>
public interface IChunkLeases
{
    /// <summary>One upload's hold on the chunks it stores; disposing it (after the commit, or the failure) lets them go.</summary>
    IUploadLeases BeginUpload();

    /// <summary>Exclusive hold for deleting <paramref name="chunkId"/>; null when an upload holds it (collection skips it this round).</summary>
    Task<IAsyncDisposable?> TryAcquireForDeleteAsync(string chunkId, CancellationToken ct);
}

public interface IUploadLeases : IAsyncDisposable
{
    /// <summary>Holds <paramref name="chunkId"/> for this upload; waits while collection is deleting it.</summary>
    Task HoldAsync(string chunkId, CancellationToken ct);
}

/// <summary>Leases in this process: enough when one gateway is the only one that uploads and collects (SQLite, embedded).</summary>
public sealed class InProcessChunkLeases : IChunkLeases
{
    private readonly Dictionary<string, int> _uploads = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public IUploadLeases BeginUpload() => new Upload(this);

    public Task<IAsyncDisposable?> TryAcquireForDeleteAsync(string chunkId, CancellationToken ct)
    {
        lock (_lock)
        {
            if (_uploads.ContainsKey(chunkId) || !_deleting.Add(chunkId)) return Task.FromResult<IAsyncDisposable?>(null);
            return Task.FromResult<IAsyncDisposable?>(new Release(() => { lock (_lock) _deleting.Remove(chunkId); }));
        }
    }

    private bool TryHold(string chunkId)
    {
        lock (_lock)
        {
            if (_deleting.Contains(chunkId)) return false;
            _uploads[chunkId] = _uploads.GetValueOrDefault(chunkId) + 1;
            return true;
        }
    }

    private void ReleaseUpload(string chunkId)
    {
        lock (_lock)
        {
            if (--_uploads[chunkId] == 0) _uploads.Remove(chunkId);
        }
    }

    private sealed class Upload(InProcessChunkLeases leases) : IUploadLeases
    {
        private readonly List<string> _held = [];

        public async Task HoldAsync(string chunkId, CancellationToken ct)
        {
            while (!leases.TryHold(chunkId)) await Task.Delay(20, ct);
            lock (_held) _held.Add(chunkId);
        }

        public ValueTask DisposeAsync()
        {
            lock (_held)
            {
                foreach (var id in _held) leases.ReleaseUpload(id);
                _held.Clear();
            }
            return ValueTask.CompletedTask;
        }
    }

    private sealed class Release(Action release) : IAsyncDisposable
    {
        private Action? _release = release;

        public ValueTask DisposeAsync()
        {
            Interlocked.Exchange(ref _release, null)?.Invoke();
            return ValueTask.CompletedTask;
        }
    }
}
