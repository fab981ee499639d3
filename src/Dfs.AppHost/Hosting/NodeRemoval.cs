using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Hosting;

/// <summary>
/// Taking a storage node out of the running cluster without losing a copy: the gateway drains it (the
/// Replicator copies its chunks to the other nodes), then the process stops and the gateway forgets it.
/// </summary>
public sealed class NodeRemoval
{
    public const string Draining = "draining";
    public const string Stopping = "stopping";
    public const string Removed = "removed";
    public const string Failed = "failed";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RemoveGrace = TimeSpan.FromSeconds(60);
    private readonly object _gate = new();

    internal NodeRemoval(string name) => Name = name;

    public string Name { get; }

    /// <summary>draining, stopping, removed or failed.</summary>
    public string Phase { get; private set; } = Draining;

    /// <summary>Chunks on the node without enough copies elsewhere yet (from the gateway's last answer).</summary>
    public long ChunksAtRisk { get; private set; } = -1;

    public string? Error { get; private set; }

    /// <summary>Completes when the node is removed; faults when the removal failed (the node then keeps running, not draining).</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    internal void Start(Func<CancellationToken, Task> run, CancellationToken ct) => Completion = Task.Run(() => run(ct), CancellationToken.None);

    internal async Task RunAsync(IGatewayClient gateway, Func<Task> stopNode, Func<Task> startNode, Action forget, TimeSpan timeout, ILogger logger,
        CancellationToken ct)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            var status = await gateway.DrainNodeAsync(Name, limit.Token);
            while (!status.Drained)
            {
                Set(Draining, status.ChunksAtRisk);
                await Task.Delay(PollInterval, limit.Token);
                status = await gateway.GetDrainStatusAsync(Name, limit.Token);
            }
            Set(Stopping, 0);
            logger.LogInformation("{Node} is drained: every chunk it held has its copies elsewhere; stopping it", Name);
            await stopNode();
            await RemoveOnceDrainedAsync(gateway, startNode, logger, limit.Token);
            forget();
            Set(Removed, 0);
            logger.LogInformation("{Node} removed from the cluster", Name);
        }
        catch (Exception e)
        {
            var why = e is OperationCanceledException && !ct.IsCancellationRequested
                ? $"the drain did not finish within {timeout.TotalMinutes:0.#} min ({ChunksAtRisk} chunks still without enough copies elsewhere)"
                : e.Message;
            lock (_gate)
            {
                Phase = Failed;
                Error = why;
            }
            logger.LogError("Removing {Node} failed: {Error}", Name, why);
            // A half-done removal must not leave the node refusing new chunks forever.
            try { await gateway.CancelDrainAsync(Name, CancellationToken.None); }
            catch (Exception cancel) { logger.LogDebug(cancel, "Cancelling the drain of {Node} failed", Name); }
            throw;
        }
    }

    /// <summary>
    /// The gateway refuses (409) while any chunk of the node lacks copies elsewhere; that can come back after the
    /// stop when another holder misses heartbeats under load. Wait for the copies to count again; if they never
    /// do, start the node again rather than leave its copies offline.
    /// </summary>
    private async Task RemoveOnceDrainedAsync(IGatewayClient gateway, Func<Task> startNode, ILogger logger, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + RemoveGrace;
        while (true)
        {
            try
            {
                await gateway.RemoveNodeAsync(Name, force: false, ct);
                return;
            }
            catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict && DateTime.UtcNow < deadline)
            {
                logger.LogDebug("{Node} not removable yet: {Reason}", Name, e.Message);
                await Task.Delay(PollInterval, ct);
            }
            catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Conflict)
            {
                logger.LogWarning("{Node} stayed needed after it stopped ({Reason}); starting it again", Name, e.Message);
                await startNode();
                throw;
            }
        }
    }

    private void Set(string phase, long atRisk)
    {
        lock (_gate)
        {
            Phase = phase;
            ChunksAtRisk = atRisk;
        }
    }
}
