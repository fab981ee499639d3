using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth;

/// <summary>
/// Credentials verified in the last CredentialCacheSeconds, keyed by a SHA-256 of the credential: a Basic password
/// costs a slow hash, which must not be paid on every request. Entries of a user go when the user or one of their
/// tokens changes; an epoch counter keeps a verification that raced such a change from caching the old answer.
/// The gateway is the only writer of users and tokens, so in-process invalidation is complete.
/// </summary>
public sealed class CredentialCache(IOptions<AuthOptions> options, TimeProvider clock)
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _verifying = new(StringComparer.Ordinal);
    private long _epoch;

    private sealed record Entry(Caller Caller, DateTimeOffset ExpiresAt);

    /// <summary>Read before looking a credential up; pass to <see cref="Set"/>.</summary>
    public long Epoch => Interlocked.Read(ref _epoch);

    public Caller? Get(string key)
    {
        if (!_entries.TryGetValue(key, out var entry)) return null;
        if (entry.ExpiresAt > clock.GetUtcNow()) return entry.Caller;
        _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        return null;
    }

    public void Set(string key, Caller caller, long epoch, DateTimeOffset? notAfter = null)
    {
        var seconds = options.Value.CredentialCacheSeconds;
        if (seconds == 0) return;
        var expires = clock.GetUtcNow().AddSeconds(seconds);
        if (notAfter is { } limit && limit < expires) expires = limit;
        if (_entries.Count >= MaxEntries) Prune();
        _entries[key] = new Entry(caller, expires);
        // Something changed while this credential was being checked: the answer may be stale, do not keep it.
        if (Epoch != epoch) _entries.TryRemove(key, out _);
    }

    public void InvalidateUser(Guid userId) => Invalidate(e => e.Caller.Id == userId);

    public void InvalidateToken(Guid tokenId) => Invalidate(e => e.Caller.TokenId == tokenId);

    /// <summary>
    /// Runs <paramref name="verify"/> once for concurrent requests with the same credential (a burst of requests with
    /// the same Basic header would otherwise each pay the slow hash).
    /// </summary>
    public async Task<bool> VerifyOnceAsync(string key, Func<bool> verify)
    {
        var lazy = _verifying.GetOrAdd(key, _ => new Lazy<Task<bool>>(() => Task.Run(verify)));
        try
        {
            return await lazy.Value;
        }
        finally
        {
            _verifying.TryRemove(new KeyValuePair<string, Lazy<Task<bool>>>(key, lazy));
        }
    }

    private void Invalidate(Func<Entry, bool> match)
    {
        Interlocked.Increment(ref _epoch);
        foreach (var (key, entry) in _entries)
            if (match(entry)) _entries.TryRemove(key, out _);
    }

    private void Prune()
    {
        var now = clock.GetUtcNow();
        foreach (var (key, entry) in _entries)
            if (entry.ExpiresAt <= now) _entries.TryRemove(key, out _);
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}
