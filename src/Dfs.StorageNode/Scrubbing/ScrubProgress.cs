using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Hosting;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Scrubbing;

/// <summary>
/// What survives a restart: the pass in progress (<see cref="PassStartedAt"/> set) resumes after <see cref="After"/>,
/// and the next pass is due a period after <see cref="LastPassStartedAt"/>. Without it, a node restarted more often than
/// a pass lasts would never finish one, and every restart would read the whole disk again.
/// </summary>
public sealed record ScrubCheckpoint(
    DateTime? PassStartedAt,
    string? After,
    long PassChunks,
    long PassBytes,
    long PassesCompleted,
    DateTime? LastPassStartedAt,
    DateTime? LastPassCompletedAt)
{
    public static readonly ScrubCheckpoint None = new(null, null, 0, 0, 0, null, null);
}

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(ScrubCheckpoint))]
internal sealed partial class ScrubCheckpointJsonContext : JsonSerializerContext;

/// <summary>The scrubber's state, shared with /status and the gauges; the checkpoint is kept in DataDir/scrub-checkpoint.json.</summary>
public sealed class ScrubProgress(NodeDataDirectory directory, IOptions<ScrubOptions> options, ILogger<ScrubProgress> logger)
{
    private readonly Lock _lock = new();
    private ScrubCheckpoint _checkpoint = ScrubCheckpoint.None;
    private long _totalChunks;
    private long _totalBytes;
    private long _corrupt;
    private int _awaitingReport;
    private DateTime? _nextPassAt;

    public ScrubCheckpoint Checkpoint
    {
        get { lock (_lock) return _checkpoint; }
    }

    public long CorruptChunks => Interlocked.Read(ref _corrupt);

    public int AwaitingReport => Volatile.Read(ref _awaitingReport);

    /// <summary>
    /// The share of the current pass done, estimated from the cursor: ids are SHA-256 values, spread evenly over the id
    /// space, so the cursor's place in it is where the pass is without counting the chunks. 1 between passes once one ended.
    /// </summary>
    public double PassProgress
    {
        get
        {
            lock (_lock)
            {
                if (_checkpoint.PassStartedAt is null) return _checkpoint.PassesCompleted > 0 ? 1 : 0;
                if (_checkpoint.After is not { } after) return 0;
                return (ulong.Parse(after.AsSpan(0, 13), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture) + 1) / (double)(1UL << 52);
            }
        }
    }

    /// <summary>Reads the checkpoint; a missing or unreadable one starts afresh (the cost is one pass read early).</summary>
    internal void Load()
    {
        var path = directory.ScrubCheckpoint;
        ScrubCheckpoint? loaded = null;
        try
        {
            if (File.Exists(path))
                loaded = JsonSerializer.Deserialize(File.ReadAllText(path), ScrubCheckpointJsonContext.Default.ScrubCheckpoint);
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("Ignoring the scrub checkpoint {Path} ({Error}): the next pass starts from the first chunk", path, e.Message);
        }
        if (loaded is { After: { } after } && !Dfs.Contracts.Integrity.ChunkIds.IsValid(after)) loaded = loaded with { After = null };
        lock (_lock) _checkpoint = loaded ?? ScrubCheckpoint.None;
    }

    /// <summary>Written aside and renamed: a crash leaves the old checkpoint or the new one, never half of one.</summary>
    internal void Save()
    {
        var path = directory.ScrubCheckpoint;
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        try
        {
            File.WriteAllText(temp, JsonSerializer.Serialize(Checkpoint, ScrubCheckpointJsonContext.Default.ScrubCheckpoint));
            File.Move(temp, path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Losing a checkpoint costs re-reading part of a pass, never correctness: go on scrubbing.
            logger.LogWarning("Could not save the scrub checkpoint {Path}: {Error}", path, e.Message);
            try { File.Delete(temp); } catch (Exception f) when (f is IOException or UnauthorizedAccessException) { }
        }
    }

    internal void PassStarted(DateTime at)
    {
        lock (_lock)
        {
            _checkpoint = _checkpoint with { PassStartedAt = at, After = null, PassChunks = 0, PassBytes = 0 };
            _nextPassAt = null;
        }
    }

    internal void Scrubbed(string id, long bytes)
    {
        lock (_lock)
        {
            _checkpoint = _checkpoint with { After = id, PassChunks = _checkpoint.PassChunks + 1, PassBytes = _checkpoint.PassBytes + bytes };
            _totalChunks++;
            _totalBytes += bytes;
        }
    }

    internal void CorruptFound() => Interlocked.Increment(ref _corrupt);

    internal void PassCompleted(DateTime at)
    {
        lock (_lock)
            _checkpoint = _checkpoint with
            {
                PassStartedAt = null,
                After = null,
                PassesCompleted = _checkpoint.PassesCompleted + 1,
                LastPassStartedAt = _checkpoint.PassStartedAt,
                LastPassCompletedAt = at,
            };
    }

    internal void NextPassAt(DateTime at)
    {
        lock (_lock) _nextPassAt = at;
    }

    internal void SetAwaitingReport(int count) => Volatile.Write(ref _awaitingReport, count);

    public ScrubStatus Snapshot()
    {
        var o = options.Value;
        var progress = PassProgress;
        lock (_lock)
        {
            var c = _checkpoint;
            return new ScrubStatus(o.BytesPerSecond > 0, o.BytesPerSecond, c.PassesCompleted, c.PassStartedAt, progress,
                c.PassChunks, c.PassBytes, _totalChunks, _totalBytes, CorruptChunks, AwaitingReport, c.LastPassCompletedAt,
                o.BytesPerSecond > 0 ? _nextPassAt : null);
        }
    }
}
