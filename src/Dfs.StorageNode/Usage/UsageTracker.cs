using Dfs.Contracts.Internal;
using Dfs.StorageNode.Hosting;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Usage;

/// <summary>
/// Chunk count and used bytes kept in memory (counted once at start, then updated on put/delete) so that
/// status and heartbeats are O(1); and space reservations for writes in flight, so concurrent writes cannot
/// together overrun the capacity.
/// </summary>
public sealed class UsageTracker(IOptions<StorageNodeOptions> options, NodeDataDirectory directory)
{
    private readonly Lock _lock = new();
    private long _capacity;
    private long _used;
    private long _count;
    private long _reserved;

    private long ReserveBytes => options.Value.ReserveBytes;

    /// <summary>Called once at start with what the chunk tree holds.</summary>
    public void Initialize(long usedBytes, long chunkCount)
    {
        lock (_lock)
        {
            _used = usedBytes;
            _count = chunkCount;
            _reserved = 0;
            _capacity = options.Value.CapacityBytes ?? DiskSpace.Available(directory.Root) + usedBytes;
        }
    }

    public NodeUsage Snapshot()
    {
        var disk = DiskSpace.Available(directory.Root);
        lock (_lock)
        {
            var free = Math.Max(0, Math.Min(_capacity - _used - _reserved, disk - ReserveBytes));
            return new NodeUsage(_capacity, free, _used, _count);
        }
    }

    public SpaceReservation Reserve() => new(this);

    public void ChunkAdded(long bytes)
    {
        lock (_lock)
        {
            _used += bytes;
            _count++;
        }
    }

    public void ChunkRemoved(long bytes)
    {
        lock (_lock)
        {
            _used -= bytes;
            _count--;
        }
    }

    internal bool TryReserve(long bytes)
    {
        var disk = DiskSpace.Available(directory.Root);
        lock (_lock)
        {
            if (_used + _reserved + bytes > _capacity) return false;
            // Bytes already written by writes in flight are on the disk; only the new ones count against it.
            if (disk - bytes < ReserveBytes) return false;
            _reserved += bytes;
            return true;
        }
    }

    internal void Release(long bytes)
    {
        lock (_lock) _reserved -= bytes;
    }
}

/// <summary>Space held for one write in flight; grows as the body turns out larger, released on dispose.</summary>
public sealed class SpaceReservation(UsageTracker tracker) : IDisposable
{
    public long Bytes { get; private set; }

    public bool TryGrowTo(long total)
    {
        if (total <= Bytes) return true;
        if (!tracker.TryReserve(total - Bytes)) return false;
        Bytes = total;
        return true;
    }

    public void Dispose()
    {
        tracker.Release(Bytes);
        Bytes = 0;
    }
}
