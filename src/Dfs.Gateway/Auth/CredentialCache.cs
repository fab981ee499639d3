using System.Collections.Concurrent;
using Dfs.Gateway.Shared;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth;

/// <summary>
/// Credentials verified in the last CredentialCacheSeconds, keyed by a SHA-256 of the credential: a Basic password
/// costs a slow hash, which must not be paid on every request. Each entry remembers the credentials epoch it was verified
/// under; any change to users or tokens on any gateway ends the epoch, so every gateway stops trusting its entries on its
/// next request. When the epoch cannot be read (Redis unreachable), nothing is cached or served from here. An S3 access
/// key's entry also carries its secret, which SigV4 checks signatures with.
/// </summary>
public sealed class CredentialCache
{
    private const int MaxEntries = 10_000;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Lazy<Task<bool>>> _verifying = new(StringComparer.Ordinal);
    private readonly ISharedState _shared;
    private readonly IOptions<AuthOptions> _options;
    private readonly TimeProvider _clock;
    private readonly GatewayMetrics _metrics;

    public CredentialCache(ISharedState shared, IOptions<AuthOptions> options, TimeProvider clock, GatewayMetrics metrics)
    {
        _shared = shared;
        _options = options;
        _clock = clock;
        _metrics = metrics;
        // A lost link may have hidden a change another gateway made: start again from the metadata.
        shared.LinkChanged += _entries.Clear;
    }

    private sealed record Entry(Caller Caller, string Epoch, DateTimeOffset ExpiresAt, string? Secret);

    /// <summary>The epoch to look credentials up under, read once per request; null: cache nothing now.</summary>
    public ValueTask<string?> EpochAsync() =>
        _options.Value.CredentialCacheSeconds == 0 ? ValueTask.FromResult<string?>(null) : _shared.ReadEpochAsync(SharedEpoch.Credentials);

    public Caller? Get(string key, string? epoch) => Lookup(key, epoch)?.Caller;

    /// <summary>As <see cref="Get"/>, with the secret the entry was kept with (<see cref="Set"/>'s <c>secret</c>).</summary>
    public (Caller Caller, string? Secret)? GetWithSecret(string key, string? epoch) => Lookup(key, epoch) is { } entry ? (entry.Caller, entry.Secret) : null;

    private Entry? Lookup(string key, string? epoch)
    {
        if (epoch is null) return null;
        if (_entries.TryGetValue(key, out var entry))
        {
            if (entry.Epoch == epoch && entry.ExpiresAt > _clock.GetUtcNow())
            {
                _metrics.CredentialLookup(hit: true);
                return entry;
            }
            _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
        }
        _metrics.CredentialLookup(hit: false);
        return null;
    }

    /// <summary>Keeps a verified credential under the epoch read before it was looked up (a change since then ended it).</summary>
    public void Set(string key, Caller caller, string? epoch, DateTimeOffset? notAfter = null, string? secret = null)
    {
        var seconds = _options.Value.CredentialCacheSeconds;
        if (epoch is null || seconds == 0) return;
        var expires = _clock.GetUtcNow().AddSeconds(seconds);
        if (notAfter is { } limit && limit < expires) expires = limit;
        if (_entries.Count >= MaxEntries) Prune();
        _entries[key] = new Entry(caller, epoch, expires, secret);
    }

    /// <summary>After a change to users, tokens or access keys is committed: every gateway's entries end.</summary>
    public Task InvalidateAsync()
    {
        _entries.Clear();
        return _shared.AdvanceEpochAsync(SharedEpoch.Credentials);
    }

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

    private void Prune()
    {
        var now = _clock.GetUtcNow();
        foreach (var (key, entry) in _entries)
            if (entry.ExpiresAt <= now) _entries.TryRemove(key, out _);
        if (_entries.Count >= MaxEntries) _entries.Clear();
    }
}
