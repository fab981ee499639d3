using Dfs.Replicator.Diagnostics;
using Dfs.Replicator.Hosting;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Replication;

/// <summary>What one reconcile pass did.</summary>
/// <param name="Rounds">Work lists fetched: a full list that led to copies is followed by another at once.</param>
public sealed record ReconcileResult(int Rounds, IReadOnlyList<ReplicationOutcome> Outcomes)
{
    public int Chunks => Outcomes.Count;
    public int CopiesMade => Outcomes.Sum(o => o.CopiesMade);
    public int CopiesMissing => Outcomes.Sum(o => o.CopiesMissing);
    public int LimitedByLiveNodes => Outcomes.Count(o => o.LimitedByLiveNodes > 0);
}

/// <summary>
/// The safety net behind the events: asks the gateway for under-replicated chunks and repairs them, every
/// <see cref="ReplicatorOptions.ReconcileIntervalMs"/> and when a node is lost, so a lost event, a broker
/// outage or a dead node never leaves data under-replicated for long.
/// </summary>
public sealed class Reconciler(
    ChunkReplicator replicator,
    ReplicatorClients clients,
    IOptionsMonitor<ReplicatorOptions> options,
    ReplicatorMetrics metrics,
    ILogger<Reconciler> logger) : BackgroundService
{
    /// <summary>A bound on back-to-back rounds in one pass, so one pass always ends.</summary>
    private const int MaxRoundsPerPass = 100;

    private static readonly TimeSpan FirstPassDelay = TimeSpan.FromSeconds(1);

    // One pass at a time: a pass asked for by NodeLost waits for the running one, then sees the newest state.
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>One pass now. Throws when the gateway cannot be asked; copy failures are in the result.</summary>
    public async Task<ReconcileResult> RunOnceAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            using var activity = ReplicatorTelemetry.ActivitySource.StartActivity("reconcile");
            metrics.ReconcilePass();
            var outcomes = new List<ReplicationOutcome>();
            var rounds = 0;
            var gateway = clients.Gateway();
            while (rounds < MaxRoundsPerPass)
            {
                rounds++;
                var batchSize = options.CurrentValue.ReconcileBatchSize;
                var work = await gateway.GetReplicationWorkAsync(batchSize, ct);
                if (work.Chunks.Count == 0) break;

                var nodes = await gateway.GetNodesAsync(ct);
                var round = await replicator.EnsureReplicasAsync(work.Chunks, nodes, ct);
                outcomes.AddRange(round);
                // A full list may have more behind it; go on only while copies are being made, so chunks that
                // cannot be helped (too few live nodes, every source down) do not keep the pass spinning.
                if (work.Chunks.Count < batchSize || round.Sum(o => o.CopiesMade) == 0) break;
            }
            var result = new ReconcileResult(rounds, outcomes);
            activity?.SetTag("dfs.reconcile.chunks", result.Chunks);
            activity?.SetTag("dfs.reconcile.copies_made", result.CopiesMade);
            return result;
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(Math.Min(FirstPassDelay.TotalMilliseconds, options.CurrentValue.ReconcileIntervalMs));
        try
        {
            await Task.Delay(delay, stoppingToken);
            while (!stoppingToken.IsCancellationRequested)
            {
                await RunLoggedAsync(stoppingToken);
                await Task.Delay(options.CurrentValue.ReconcileIntervalMs, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RunLoggedAsync(CancellationToken stoppingToken)
    {
        try
        {
            var result = await RunOnceAsync(stoppingToken);
            if (result.Chunks == 0) return;
            var level = result.CopiesMissing > 0 ? LogLevel.Warning : LogLevel.Information;
            logger.Log(level,
                "Reconcile: {Chunks} under-replicated chunks, {CopiesMade} copies made, {CopiesMissing} copies failed, {Limited} chunks waiting for more live nodes",
                result.Chunks, result.CopiesMade, result.CopiesMissing, result.LimitedByLiveNodes);
        }
        catch (Exception e) when (!stoppingToken.IsCancellationRequested)
        {
            // The gateway may be starting, restarting or unreachable: the next round tries again.
            logger.LogWarning("Reconcile pass failed; next try in {IntervalMs} ms: {Reason}", options.CurrentValue.ReconcileIntervalMs, e.Message);
        }
    }

    public override void Dispose()
    {
        _gate.Dispose();
        base.Dispose();
    }
}
