using System.ComponentModel.DataAnnotations;
using Dfs.Contracts.Integrity;
using Dfs.Gateway.Namespace;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Dfs.Gateway.Files;

/// <summary>Dfs:Gateway:Cache: what the read path keeps, and how much of it.</summary>
public sealed class ReadCacheOptions
{
    public const string Section = "Dfs:Gateway:Cache";

    /// <summary>Chunks up to this size are kept (in this process, and in Redis when there is one); 0 keeps none.</summary>
    [Range(0, 1024 * 1024)]
    public int SmallChunkBytes { get; set; } = 64 * 1024;

    /// <summary>The in-process share: small chunks' bytes and layouts, least recently used first out.</summary>
    [Range(1024 * 1024, 16L * 1024 * 1024 * 1024)]
    public long MemoryBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>How long Redis keeps a small chunk's bytes after they were last stored there.</summary>
    [Range(1, 7 * 24 * 3600)]
    public int RedisSeconds { get; set; } = 3600;

    /// <summary>How long this process trusts a version's layout (which nodes hold each chunk) before asking the metadata again.</summary>
    [Range(0, 3600)]
    public int LayoutSeconds { get; set; } = 30;
}

/// <summary>
/// The read path's caches. Only what cannot go stale in a way that matters is kept: a chunk's bytes, keyed by their SHA-256
/// (content addressing: the same key can never mean other bytes, and bytes from Redis are hashed again before use), and
/// a version's layout, keyed by the version's id (its chunk list never changes; its holders may, and a read that finds
/// none of the cached holders asks the metadata again). Which version a path names is never cached: every GET asks the
/// metadata, so no gateway serves a version older than one another gateway acknowledged.
/// </summary>
public sealed class ReadCache : IDisposable
{
    private const string ChunkKeyPrefix = "dfs:chunk:";
    private readonly MemoryCache _memory;
    private readonly IConnectionMultiplexer? _redis;
    private readonly IOptions<ReadCacheOptions> _options;
    private readonly GatewayMetrics _metrics;

    public ReadCache(IOptions<ReadCacheOptions> options, GatewayMetrics metrics, IServiceProvider services)
    {
        _options = options;
        _metrics = metrics;
        _redis = services.GetService<IConnectionMultiplexer>();
        _memory = new MemoryCache(new MemoryCacheOptions { SizeLimit = options.Value.MemoryBytes, CompactionPercentage = 0.25 });
    }

    /// <summary>Whether chunks of <paramref name="size"/> bytes are kept.</summary>
    public bool Keeps(long size) => size > 0 && size <= _options.Value.SmallChunkBytes;

    /// <summary>The chunk's verified bytes, from this process or Redis; null when neither has them (or Redis cannot be reached).</summary>
    public async ValueTask<byte[]?> GetChunkAsync(string chunkId, long size)
    {
        if (!Keeps(size)) return null;
        if (_memory.TryGetValue(ChunkKey(chunkId), out byte[]? local) && local is not null)
        {
            _metrics.ChunkCacheLookup("memory");
            return local;
        }
        if (_redis is { IsConnected: true })
        {
            try
            {
                var shared = (byte[]?)await _redis.GetDatabase().StringGetAsync(ChunkKeyPrefix + chunkId);
                // Never served unchecked: the bytes must hash to the chunk's id.
                if (shared is not null && shared.Length == size && ChunkIds.Matches(shared, chunkId))
                {
                    KeepInMemory(chunkId, shared);
                    _metrics.ChunkCacheLookup("redis");
                    return shared;
                }
            }
            catch (Exception e) when (Shared.RedisSharedState.IsRedisFailure(e))
            {
            }
        }
        _metrics.ChunkCacheLookup("miss");
        return null;
    }

    /// <summary>Keeps bytes whose SHA-256 was just checked against <paramref name="chunkId"/> (read from a node, or hashed on upload).</summary>
    public void PutVerifiedChunk(string chunkId, ReadOnlySpan<byte> verified)
    {
        if (!Keeps(verified.Length)) return;
        var bytes = verified.ToArray();
        KeepInMemory(chunkId, bytes);
        if (_redis is not { IsConnected: true }) return;
        try
        {
            _redis.GetDatabase().StringSet(ChunkKeyPrefix + chunkId, bytes, TimeSpan.FromSeconds(_options.Value.RedisSeconds), flags: CommandFlags.FireAndForget);
        }
        catch (Exception e) when (Shared.RedisSharedState.IsRedisFailure(e))
        {
        }
    }

    /// <summary>A version's layout as this process last read it, if recent enough.</summary>
    public IReadOnlyList<ChunkLayout>? GetLayout(Guid versionId)
    {
        var found = _memory.TryGetValue(LayoutKey(versionId), out IReadOnlyList<ChunkLayout>? layout) ? layout : null;
        _metrics.LayoutCacheLookup(found is not null);
        return found;
    }

    public void PutLayout(Guid versionId, IReadOnlyList<ChunkLayout> layout)
    {
        var seconds = _options.Value.LayoutSeconds;
        if (seconds == 0) return;
        // Roughly what it holds: a chunk id, its numbers and a few holders.
        _memory.Set(LayoutKey(versionId), layout, new MemoryCacheEntryOptions
        {
            Size = 64 + layout.Count * 160L,
            AbsoluteExpirationRelativeToNow = TimeSpan.FromSeconds(seconds),
        });
    }

    public void ForgetLayout(Guid versionId) => _memory.Remove(LayoutKey(versionId));

    public void Dispose() => _memory.Dispose();

    private void KeepInMemory(string chunkId, byte[] bytes) =>
        _memory.Set(ChunkKey(chunkId), bytes, new MemoryCacheEntryOptions { Size = bytes.Length + 64L, SlidingExpiration = TimeSpan.FromHours(1) });

    private static string ChunkKey(string chunkId) => "c:" + chunkId;

    private static string LayoutKey(Guid versionId) => "l:" + versionId.ToString("N");
}
