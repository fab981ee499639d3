namespace Dfs.Gateway.Files;

/// <summary>
/// Keeps garbage collection and uploads of the same content apart. Content addressing means a new upload
/// may reuse a chunk that collection is about to delete: an upload holds a lease on each chunk id from
/// store to commit, and collection only deletes an id it can lease exclusively (and waits for no one).
/// </summary>
public sealed class ChunkLeases
{
    private readonly Dictionary<string, int> _uploads = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deleting = new(StringComparer.Ordinal);
    private readonly object _lock = new();

    /// <summary>Holds <paramref name="chunkId"/> for an upload; waits while collection is deleting it.</summary>
    public async Task<IDisposable> AcquireForUploadAsync(string chunkId, CancellationToken ct)
    {
        while (true)
        {
            lock (_lock)
            {
                if (!_deleting.Contains(chunkId))
                {
                    _uploads[chunkId] = _uploads.GetValueOrDefault(chunkId) + 1;
                    return new Lease(() => ReleaseUpload(chunkId));
                }
            }
            await Task.Delay(20, ct);
        }
    }

    /// <summary>Null when an upload holds the id: collection skips it this round.</summary>
    public IDisposable? TryAcquireForDelete(string chunkId)
    {
        lock (_lock)
        {
            if (_uploads.ContainsKey(chunkId) || !_deleting.Add(chunkId)) return null;
            return new Lease(() => { lock (_lock) _deleting.Remove(chunkId); });
        }
    }

    public bool IsUploading(string chunkId)
    {
        lock (_lock) return _uploads.ContainsKey(chunkId);
    }

    private void ReleaseUpload(string chunkId)
    {
        lock (_lock)
        {
            if (--_uploads[chunkId] == 0) _uploads.Remove(chunkId);
        }
    }

    private sealed class Lease(Action release) : IDisposable
    {
        private Action? _release = release;
        public void Dispose() => Interlocked.Exchange(ref _release, null)?.Invoke();
    }
}
