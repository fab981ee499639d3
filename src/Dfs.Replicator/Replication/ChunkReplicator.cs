using System.Diagnostics;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.Replicator.Diagnostics;
using Dfs.Replicator.Hosting;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Replication;

/// <summary>
/// Brings one chunk to its replication target by streaming it from a holder to nodes that lack it, then
/// reporting each new copy to the gateway. Idempotent given fresh state: a node that already has the chunk
/// answers the PUT with a harmless 200 and the gateway's replica record is idempotent.
/// </summary>
public sealed class ChunkReplicator(
    ReplicatorClients clients,
    IOptionsMonitor<ReplicatorOptions> options,
    ReplicatorMetrics metrics,
    ILogger<ChunkReplicator> logger)
{
    /// <summary>Nodes whose free space differs by less than this are treated as equal and picked at random,
    /// so two replicators working from the same node list do not both pile onto the single emptiest node.</summary>
    internal const long FreeSpaceBucketBytes = 64L * 1024 * 1024;

    /// <summary>Repairs many chunks, at most <see cref="ReplicatorOptions.MaxParallelCopies"/> at a time; outcomes in input order.</summary>
    public async Task<IReadOnlyList<ReplicationOutcome>> EnsureReplicasAsync(
        IReadOnlyList<ChunkWork> chunks, IReadOnlyList<NodeInfo> nodes, CancellationToken ct)
    {
        var outcomes = new ReplicationOutcome[chunks.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.CurrentValue.MaxParallelCopies, CancellationToken = ct };
        await Parallel.ForEachAsync(Enumerable.Range(0, chunks.Count), parallel,
            async (i, token) => outcomes[i] = await EnsureReplicasAsync(chunks[i], nodes, token));
        return outcomes;
    }

    public async Task<ReplicationOutcome> EnsureReplicasAsync(ChunkWork chunk, IReadOnlyList<NodeInfo> nodes, CancellationToken ct)
    {
        // The FileStored consumer and the reconciler can reach the same chunk at once: one at a time per chunk,
        // each starting from the gateway's current holders, so they never both add "the missing" copy.
        var gate = _chunkGates[(int)((uint)StringComparer.Ordinal.GetHashCode(chunk.ChunkId) % (uint)_chunkGates.Length)];
        await gate.WaitAsync(ct);
        try
        {
            return await EnsureLockedAsync(await RefreshAsync(chunk, ct), nodes, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    private readonly SemaphoreSlim[] _chunkGates = Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1)).ToArray();

    /// <summary>The chunk's holders as the gateway knows them now; a chunk the gateway no longer wants needs no copy.</summary>
    private async Task<ChunkWork> RefreshAsync(ChunkWork chunk, CancellationToken ct)
    {
        try
        {
            var state = await clients.Gateway().GetChunkStateAsync([chunk.ChunkId], ct);
            return state.Chunks.FirstOrDefault(c => c.ChunkId == chunk.ChunkId) ?? chunk with { Wanted = 0 };
        }
        catch (Exception e) when (!ct.IsCancellationRequested && IsGatewayFailure(e))
        {
            return chunk;
        }
    }

    private async Task<ReplicationOutcome> EnsureLockedAsync(ChunkWork chunk, IReadOnlyList<NodeInfo> nodes, CancellationToken ct)
    {
        using var activity = ReplicatorTelemetry.ActivitySource.StartActivity("replicate chunk");
        activity?.SetTag("dfs.chunk.id", chunk.ChunkId);
        activity?.SetTag("dfs.chunk.size", chunk.Size);

        var plan = ReplicationPlan.Create(chunk, nodes);
        var failures = new List<ReplicationFailure>();
        var newHolders = new List<Guid>();

        if (plan.CopiesNeeded > 0)
        {
            var storage = clients.StorageNodes();
            var gateway = clients.Gateway();
            var badSources = new HashSet<Guid>();
            foreach (var target in plan.Targets)
            {
                if (newHolders.Count == plan.CopiesNeeded) break;
                var copy = await CopyAsync(storage, chunk, plan.Sources, badSources, target, failures, ct);
                if (copy == CopyResult.NoSource) break;
                if (copy == CopyResult.TargetFailed) continue;

                try
                {
                    await gateway.ReportReplicaAsync(new ReplicaReport(chunk.ChunkId, target.Id), ct);
                }
                catch (Exception e) when (!ct.IsCancellationRequested && IsGatewayFailure(e))
                {
                    // The bytes are on the node but the gateway does not know: not a copy yet. A later try
                    // (retry or reconcile) finds the node again, its PUT is a no-op, and the report goes through.
                    Fail(failures, ReplicationSide.Gateway, target.Id, $"recording the copy on {target.Name} failed: {e.Message}");
                    break;
                }
                newHolders.Add(target.Id);
                metrics.CopyMade(chunk.Size);
            }
            if (newHolders.Count < plan.CopiesNeeded && plan.Sources.Count == 0)
                Fail(failures, ReplicationSide.Source, null, "no holder of the chunk is live or suspect: nothing to copy from");
        }

        var outcome = new ReplicationOutcome(chunk.ChunkId, chunk.Wanted, plan.Target, plan.HoldersBefore,
            newHolders.Count, newHolders, failures);
        activity?.SetTag("dfs.replication.copies_made", outcome.CopiesMade);
        activity?.SetTag("dfs.replication.copies_missing", outcome.CopiesMissing);
        if (outcome.CopyFailed)
        {
            activity?.SetStatus(ActivityStatusCode.Error, "copies failed");
            logger.LogWarning("Chunk {ChunkId}: {Missing} of {Needed} copies could not be made ({Failures})",
                chunk.ChunkId, outcome.CopiesMissing, plan.CopiesNeeded, string.Join("; ", failures.Select(f => f.Reason)));
        }
        else if (outcome.CopiesMade > 0)
        {
            logger.LogDebug("Chunk {ChunkId}: {Copies} new copies on {Nodes}", chunk.ChunkId, outcome.CopiesMade, newHolders);
        }
        return outcome;
    }

    private enum CopyResult { Copied, TargetFailed, NoSource }

    /// <summary>One copy to <paramref name="target"/>, trying each usable source in turn.</summary>
    private async Task<CopyResult> CopyAsync(IStorageNodeClient storage, ChunkWork chunk, IReadOnlyList<NodeInfo> sources,
        HashSet<Guid> badSources, NodeInfo target, List<ReplicationFailure> failures, CancellationToken ct)
    {
        var timeout = TimeSpan.FromSeconds(options.CurrentValue.CopyTimeoutSeconds);
        foreach (var source in sources)
        {
            if (badSources.Contains(source.Id)) continue;

            using var copyCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            copyCts.CancelAfter(timeout);
            Stream input;
            try
            {
                input = await storage.OpenChunkAsync(ReplicationPlan.NodeUri(source), chunk.ChunkId, ct: copyCts.Token);
            }
            catch (Exception e) when (!ct.IsCancellationRequested && IsCopyFailure(e))
            {
                badSources.Add(source.Id);
                Fail(failures, ReplicationSide.Source, source.Id, $"reading from {source.Name} failed: {Describe(e, timeout)}");
                continue;
            }

            await using var tracked = new CopySourceStream(input, chunk.Size);
            try
            {
                await storage.PutChunkAsync(ReplicationPlan.NodeUri(target), chunk.ChunkId, tracked, chunk.Size, copyCts.Token);
                return CopyResult.Copied;
            }
            catch (Exception e) when (!ct.IsCancellationRequested && IsCopyFailure(e))
            {
                // 422: the target hashed what the source sent and it is not the chunk, so the source's copy is bad.
                var sourceAtFault = tracked.Failure is not null
                    || e is StorageNodeException { Kind: StorageFailureKind.IntegrityRejected }
                    || (e is OperationCanceledException && tracked.CancelledWhileReading);
                if (sourceAtFault)
                {
                    badSources.Add(source.Id);
                    var reason = tracked.Failure?.Message ?? Describe(e, timeout);
                    Fail(failures, ReplicationSide.Source, source.Id, $"streaming from {source.Name} to {target.Name} failed: {reason}");
                    continue;
                }
                Fail(failures, ReplicationSide.Target, target.Id, $"writing to {target.Name} failed: {Describe(e, timeout)}");
                return CopyResult.TargetFailed;
            }
        }
        return CopyResult.NoSource;
    }

    private void Fail(List<ReplicationFailure> failures, ReplicationSide side, Guid? node, string reason)
    {
        failures.Add(new ReplicationFailure(side, node, reason));
        metrics.CopyFailed(side switch
        {
            ReplicationSide.Source => "source",
            ReplicationSide.Target => "target",
            _ => "gateway",
        });
    }

    private static bool IsCopyFailure(Exception e) =>
        e is StorageNodeException or HttpRequestException or IOException or InvalidDataException or OperationCanceledException;

    private static bool IsGatewayFailure(Exception e) =>
        e is DfsApiException or HttpRequestException or IOException or OperationCanceledException;

    private static string Describe(Exception e, TimeSpan timeout) =>
        e is OperationCanceledException ? $"no progress within the copy timeout of {timeout.TotalSeconds:0} s" : e.Message;
}
