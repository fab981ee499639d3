using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Dfs.Gateway.Shared;

/// <summary>
/// The shared state in Redis ("cache"). An epoch is a random value, replaced on every change, so that a Redis restarted
/// empty (or from an old snapshot) never hands back a value a gateway cached under. Any failure is "unknown", never an
/// error: the gateway then works from the metadata alone, slower but right.
/// </summary>
public sealed class RedisSharedState : ISharedState, IDisposable
{
    private const string KeyPrefix = "dfs:";

    // A token bucket in one step on the server, timed by the server's clock (gateways' clocks may differ). Keys expire once
    // a bucket would be full again, so idle users cost nothing.
    private const string TakeTokenScript = """
        local rate = tonumber(ARGV[1])
        local burst = tonumber(ARGV[2])
        local time = redis.call('TIME')
        local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
        local tokens = tonumber(state[1])
        local at = tonumber(state[2])
        if tokens == nil or at == nil then
          tokens = burst
          at = now
        end
        tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
        local allowed = 0
        local wait = 0
        if tokens >= 1 then
          tokens = tokens - 1
          allowed = 1
        else
          wait = math.ceil((1 - tokens) * 1000 / rate)
        end
        redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
        redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
        return {allowed, wait}
        """;

    private readonly IConnectionMultiplexer _redis;
    private readonly ILogger<RedisSharedState> _logger;
    private readonly GatewayMetrics _metrics;
    // Changes this gateway committed but could not publish: until they are, it trusts no epoch it reads.
    private readonly ConcurrentDictionary<SharedEpoch, bool> _unpublished = new();

    public RedisSharedState(IConnectionMultiplexer redis, GatewayMetrics metrics, ILogger<RedisSharedState> logger)
    {
        _redis = redis;
        _metrics = metrics;
        _logger = logger;
        _redis.ConnectionFailed += OnConnectionFailed;
        _redis.ConnectionRestored += OnConnectionRestored;
    }

    public bool IsShared => true;

    public event Action? LinkChanged;

    public async ValueTask<string?> ReadEpochAsync(SharedEpoch epoch)
    {
        if (!_redis.IsConnected) return Unreachable();
        try
        {
            var db = _redis.GetDatabase();
            if (!_unpublished.IsEmpty && !await PublishUnpublishedAsync(db)) return Unreachable();
            var value = await db.StringGetAsync(Key(epoch));
            if (value.HasValue) return value.ToString();
            // Never set, or Redis came back empty: a new epoch, unknown to every cached copy.
            await db.StringSetAsync(Key(epoch), InProcessSharedState.NewEpoch(), when: When.NotExists);
            value = await db.StringGetAsync(Key(epoch));
            return value.HasValue ? value.ToString() : Unreachable();
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            return Unreachable();
        }
    }

    public async Task AdvanceEpochAsync(SharedEpoch epoch)
    {
        _unpublished[epoch] = true;
        if (_redis.IsConnected && await PublishUnpublishedAsync(_redis.GetDatabase())) return;
        _logger.LogWarning("Redis is unreachable: the change to {Epoch} is published once it is back; until then this gateway caches nothing", epoch);
    }

    public async ValueTask<RateDecision?> TryTakeTokenAsync(string bucket, int perSecond, int burst)
    {
        if (!_redis.IsConnected) return null;
        try
        {
            var result = (RedisResult[]?)await _redis.GetDatabase().ScriptEvaluateAsync(TakeTokenScript,
                [new RedisKey(KeyPrefix + "rate:" + bucket)], [perSecond, burst]);
            if (result is not { Length: 2 }) return null;
            return new RateDecision((int)result[0] == 1, TimeSpan.FromMilliseconds((long)result[1]));
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            return null;
        }
    }

    public void Dispose()
    {
        _redis.ConnectionFailed -= OnConnectionFailed;
        _redis.ConnectionRestored -= OnConnectionRestored;
    }

    private async Task<bool> PublishUnpublishedAsync(IDatabase db)
    {
        try
        {
            foreach (var epoch in _unpublished.Keys)
            {
                // Removed before the write: a change committed while it runs marks the epoch again and is published too.
                _unpublished.TryRemove(epoch, out _);
                try
                {
                    await db.StringSetAsync(Key(epoch), InProcessSharedState.NewEpoch());
                }
                catch
                {
                    _unpublished[epoch] = true;
                    throw;
                }
            }
            return true;
        }
        catch (Exception e) when (IsRedisFailure(e))
        {
            return false;
        }
    }

    private string? Unreachable()
    {
        _metrics.SharedStateUnreachable();
        return null;
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e)
    {
        _logger.LogWarning("Redis link lost ({Failure}): serving from the metadata alone until it is back", e.FailureType);
        LinkChanged?.Invoke();
    }

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e)
    {
        _logger.LogInformation("Redis link restored");
        LinkChanged?.Invoke();
        if (!_unpublished.IsEmpty) _ = PublishUnpublishedAsync(_redis.GetDatabase());
    }

    private static RedisKey Key(SharedEpoch epoch) => KeyPrefix + "epoch:" + epoch.ToString().ToLowerInvariant();

    /// <summary>
    /// Redis could not answer: its own errors, a timeout, a multiplexer being torn down, or the socket failing under a
    /// command in flight (Redis stopped mid-request surfaces as the pipe's IOException, not a RedisException).
    /// </summary>
    internal static bool IsRedisFailure(Exception e) =>
        e is RedisException or TimeoutException or ObjectDisposedException or IOException or System.Net.Sockets.SocketException;
}
