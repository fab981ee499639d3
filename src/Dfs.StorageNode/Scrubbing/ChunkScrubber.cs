using System.Buffers;
using System.Security.Cryptography;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Chunks;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Scrubbing;

/// <summary>
/// Bitrot scrubbing: walks the node's chunks in id order, pass after pass, reading each back and hashing it against its
/// id at a bounded rate. A copy that no longer matches is moved to quarantine at once (the node stops serving it) and
/// reported to the gateway, which stops counting it, so the Replicator restores the replication factor from a good copy.
/// Writes were verified when they arrived; this finds what the disk changed since.
/// </summary>
internal sealed class ChunkScrubber(
    ChunkStore store,
    QuarantineOutbox outbox,
    ScrubProgress progress,
    ScrubMetrics metrics,
    IOptions<ScrubOptions> options,
    TimeProvider clock,
    ILogger<ChunkScrubber> logger) : BackgroundService
{
    private const int PageSize = 256;
    private const int MaxBlockBytes = 1024 * 1024;

    /// <summary>What a file costs at least, its metadata and first block: a node of tiny chunks is paced too.</summary>
    private const int MinChargeBytes = 4096;

    private static readonly TimeSpan MaxFirstRetry = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan MaxRetry = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CheckpointEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan MaxDelay = TimeSpan.FromHours(1);

    private readonly int _blockBytes = (int)Math.Clamp(options.Value.BytesPerSecond / 4, MinChargeBytes, MaxBlockBytes);
    private int _awaitingReport;
    private TimeSpan _retry = FirstRetryOf(options.Value);
    private long _nextReport;

    private TimeSpan Period => TimeSpan.FromSeconds(options.Value.PeriodSeconds);

    private bool ReportDue => _awaitingReport > 0 && clock.GetTimestamp() >= _nextReport;

    private TimeSpan UntilReport => _awaitingReport > 0 ? clock.GetElapsedTime(clock.GetTimestamp(), _nextReport) : TimeSpan.MaxValue;

    private DateTime UtcNow => clock.GetUtcNow().UtcDateTime;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Here, not in ExecuteAsync (which runs on its own): /status shows the checkpoint from the first request on.
        progress.Load();
        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pacer = options.Value.BytesPerSecond > 0 ? new ScrubPacer(options.Value.BytesPerSecond, clock) : null;
        if (pacer is null)
            logger.LogInformation("Scrubbing is off ({Setting} = 0)", $"{ScrubOptions.SectionName}:{nameof(ScrubOptions.BytesPerSecond)}");
        try
        {
            // Quarantined copies left by an earlier run are due for reporting at once (even with scrubbing off).
            _awaitingReport = store.ListQuarantined().Count;
            while (true)
            {
                try
                {
                    if (pacer is null)
                    {
                        if (_awaitingReport == 0) return;
                        await DelayAsync(UntilReport, stoppingToken);
                        await ReportAsync(stoppingToken);
                        continue;
                    }
                    await WaitForPassAsync(stoppingToken);
                    await RunPassAsync(pacer, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    // An unhandled exception would stop the host: the node must go on serving whatever the scrubber meets.
                    logger.LogError(e, "Scrubbing failed; going on in {Seconds} s from the last chunk scrubbed", RetryAfterFailure.TotalSeconds);
                    await Task.Delay(RetryAfterFailure, clock, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            progress.Save();
        }
    }

    /// <summary>Resumes a pass in progress, else waits until a period after the last pass started, retrying reports meanwhile.</summary>
    private async Task WaitForPassAsync(CancellationToken ct)
    {
        var checkpoint = progress.Checkpoint;
        if (checkpoint.PassStartedAt is not null)
        {
            logger.LogInformation("Resuming the scrub pass started at {StartedAt:O} after chunk {After}", checkpoint.PassStartedAt, checkpoint.After ?? "(none)");
            return;
        }
        var due = checkpoint.LastPassStartedAt + Period ?? UtcNow;
        progress.NextPassAt(due);
        while (UtcNow < due)
        {
            var untilDue = due - UtcNow;
            await DelayAsync(UntilReport < untilDue ? UntilReport : untilDue, ct);
            if (ReportDue) await ReportAsync(ct);
        }
        progress.PassStarted(UtcNow);
        progress.Save();
    }

    private async Task RunPassAsync(ScrubPacer pacer, CancellationToken ct)
    {
        var started = clock.GetTimestamp();
        var corruptBefore = progress.CorruptChunks;
        var lastSave = started;
        var after = progress.Checkpoint.After;
        while (true)
        {
            var page = store.List(after, PageSize);
            foreach (var chunk in page.Chunks)
            {
                await ScrubAsync(chunk, pacer, ct);
                after = chunk.Id;
                if (clock.GetElapsedTime(lastSave) >= CheckpointEvery)
                {
                    progress.Save();
                    lastSave = clock.GetTimestamp();
                }
                if (ReportDue) await ReportAsync(ct);
            }
            if (page.NextAfter is null) break;
        }

        var done = progress.Checkpoint;
        progress.PassCompleted(UtcNow);
        progress.Save();
        metrics.PassCompleted();
        logger.LogInformation("Scrub pass done in {Seconds:F1} s: {Chunks} chunks, {Bytes} bytes, {Corrupt} corrupt",
            clock.GetElapsedTime(started).TotalSeconds, done.PassChunks, done.PassBytes, progress.CorruptChunks - corruptBefore);
    }

    private async Task ScrubAsync(StoredChunk chunk, ScrubPacer pacer, CancellationToken ct)
    {
        var verdict = await VerifyAsync(store.ChunkPath(chunk.Id), chunk.Id, pacer, ct);
        if (verdict.Missing) return; // deleted since the page was listed
        progress.Scrubbed(chunk.Id, verdict.Bytes);
        metrics.Scrubbed(verdict.Bytes);
        if (verdict.Problem is { } problem) await QuarantineAsync(chunk.Id, problem, pacer, ct);
    }

    private async Task QuarantineAsync(string id, string problem, ScrubPacer pacer, CancellationToken ct)
    {
        if (store.Quarantine(id) is not { } quarantined) return;
        // Judged again on the very file taken out (a rename keeps it): the first read may have raced a DELETE and a new
        // PUT of the id, or met a passing read error. A copy that is good after all goes back into service.
        var second = await VerifyAsync(quarantined, id, pacer, ct);
        if (second.Missing) return;
        if (second.Problem is null)
        {
            if (!store.Restore(id)) File.Delete(quarantined);
            logger.LogWarning("Chunk {ChunkId} failed its scrub ({Problem}) but its copy checked good when read again: kept in service", id, problem);
            return;
        }

        progress.CorruptFound();
        metrics.Corrupt();
        logger.LogError("Chunk {ChunkId} is corrupt ({Problem}): no longer served, quarantined as {Path} and reported to the gateway", id, problem, quarantined);
        await ReportAsync(ct);
    }

    private async Task ReportAsync(CancellationToken ct)
    {
        _awaitingReport = await outbox.FlushAsync(ct);
        if (_awaitingReport == 0)
        {
            _retry = FirstRetryOf(options.Value);
            return;
        }
        // Less and less often while the gateway does not take them: every attempt holds up scrubbing for a moment.
        _nextReport = clock.GetTimestamp() + (long)(_retry.TotalSeconds * clock.TimestampFrequency);
        _retry = _retry * 2 < MaxRetry ? _retry * 2 : MaxRetry;
    }

    /// <summary>The first retry of an unacknowledged report: soon, but no sooner than a pass starts again.</summary>
    private static TimeSpan FirstRetryOf(ScrubOptions options) =>
        TimeSpan.FromSeconds(Math.Min(options.PeriodSeconds, MaxFirstRetry.TotalSeconds));

    /// <summary>Callers loop until their moment comes: capped, since a period may be longer than a timer can wait (49 days).</summary>
    private Task DelayAsync(TimeSpan wait, CancellationToken ct) =>
        wait > TimeSpan.Zero ? Task.Delay(wait < MaxDelay ? wait : MaxDelay, clock, ct) : Task.CompletedTask;

    /// <summary>Hashes the file at <paramref name="path"/> to its end, each read paid for before it is made.</summary>
    private async Task<Verdict> VerifyAsync(string path, string id, ScrubPacer pacer, CancellationToken ct)
    {
        FileStream file;
        try
        {
            // Delete is shared: a DELETE of the chunk during its scrub goes ahead (it moves the file out).
            file = ChunkStore.OpenForReading(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Verdict.Gone;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A copy the node cannot open cannot be served either.
            return new Verdict(0, $"unreadable: {e.Message}");
        }

        var buffer = ArrayPool<byte>.Shared.Rent(_blockBytes);
        long total = 0;
        try
        {
            await using (file)
            {
                using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                var length = file.Length;
                while (true)
                {
                    // Read to the end, not to the length at open: bytes appended to a chunk would be served too.
                    var want = (int)Math.Clamp(length - total, MinChargeBytes, _blockBytes);
                    await pacer.WaitAsync(want, ct);
                    var read = await file.ReadAsync(buffer.AsMemory(0, want), ct);
                    if (read == 0) break;
                    hash.AppendData(buffer, 0, read);
                    total += read;
                }
                var actual = ChunkIds.FromHash(hash.GetHashAndReset());
                return new Verdict(total, actual == id ? null : $"its {total} bytes hash to {actual}");
            }
        }
        catch (IOException e)
        {
            // A latent sector error is bitrot too: a copy that cannot be read is as lost as one that reads wrong.
            return new Verdict(total, $"unreadable after {total} bytes: {e.Message}");
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>A scrub's outcome: <see cref="Problem"/> null when the bytes hash to the id.</summary>
    private readonly record struct Verdict(long Bytes, string? Problem, bool Missing = false)
    {
        public static Verdict Gone => new(0, null, Missing: true);
    }
}
