using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Chunks;
using Dfs.StorageNode.Hosting;
using Dfs.StorageNode.Registration;
using Dfs.ServiceDefaults;

namespace Dfs.StorageNode.Scrubbing;

/// <summary>
/// The quarantine folder as a durable outbox: each file in it is a corrupt copy the gateway has to hear about, so it
/// stops counting the copy and has a good one made. A file is reported until the gateway acknowledges, then deleted;
/// a node that crashes or cannot reach the gateway reports it after. Only the scrubber's loop calls it, one call at a
/// time, so a quarantine and a report of the same id never interleave.
/// </summary>
internal sealed class QuarantineOutbox(
    ChunkStore store,
    NodeIdentity identity,
    RegistrationState registration,
    ScrubProgress progress,
    IServiceProvider services,
    ILogger<QuarantineOutbox> logger)
{
    private static readonly TimeSpan ReportTimeout = TimeSpan.FromSeconds(5);

    // Absent on a standalone node (no gateway configured): its quarantined copies wait for an operator.
    private readonly IGatewayInternalApi? _gateway = services.GetService<IGatewayInternalApi>();

    /// <summary>Reports every quarantined copy the gateway has not acknowledged; stops at the first failure. Returns how many are left.</summary>
    public async Task<int> FlushAsync(CancellationToken ct)
    {
        var pending = store.ListQuarantined();
        var left = pending.Count;
        progress.SetAwaitingReport(left);
        // Before registering, the gateway would refuse the report of a node it does not know.
        if (left > 0 && _gateway is not null && registration.HasRegistered)
        {
            foreach (var id in pending)
            {
                try
                {
                    // Bounded: the client's resilience handler would go on retrying a gateway that is down, and the
                    // scrubber waits for this call.
                    using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
                    attempt.CancelAfter(ReportTimeout);
                    await _gateway.ReportCorruptReplicaAsync(new CorruptReplicaReport(id, identity.Id), attempt.Token);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    logger.LogWarning("Could not report the corrupt copy of chunk {ChunkId} to gateway {Gateway} ({Pending} waiting); retrying later: {Error}",
                        id, GatewayLink.BaseAddress, left, e.Message);
                    break;
                }
                await ReaffirmGoodCopyAsync(id, ct);
                try
                {
                    File.Delete(store.QuarantinePath(id));
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Reported again next time: the gateway's answer to a repeated report is the same.
                    logger.LogWarning("Could not delete the quarantined copy {Path}: {Error}", store.QuarantinePath(id), e.Message);
                    continue;
                }
                left--;
                logger.LogInformation("Gateway acknowledged the corrupt copy of chunk {ChunkId}; deleted it from quarantine", id);
            }
        }
        progress.SetAwaitingReport(left);
        return left;
    }

    /// <summary>
    /// Once the copy was dropped, the Replicator may make a new one here (this node no longer counts as a holder). If its
    /// report reached the gateway before ours, ours dropped the new copy's record too: a verified copy in place is
    /// reported again (idempotent), so the record exists exactly when the file does.
    /// </summary>
    private async Task ReaffirmGoodCopyAsync(string id, CancellationToken ct)
    {
        if (store.GetLength(id) is null) return;
        try
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
            attempt.CancelAfter(ReportTimeout);
            await _gateway!.ReportReplicaAsync(new ReplicaReport(id, identity.Id), attempt.Token);
        }
        catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            // The metadata no longer knows the chunk (its files were deleted): there is no record to restore.
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            // The copy then only goes uncounted: the chunk looks under-replicated and gets one more copy elsewhere.
            logger.LogWarning("Could not report the good copy of chunk {ChunkId} that replaced a corrupt one: {Error}", id, e.Message);
        }
    }
}
