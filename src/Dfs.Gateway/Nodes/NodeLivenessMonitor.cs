using Dfs.Contracts.Messages;
using Dfs.Gateway.Messaging;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Nodes;

/// <summary>
/// Watches heartbeats: publishes NodeLost when a node turns dead (the Replicator then restores its
/// chunks elsewhere), checks a node's inventory against the metadata when it comes back, and keeps the
/// under-replicated, backlog, unreadable and error-queue gauges current.
/// </summary>
public sealed class NodeLivenessMonitor(
    NodeRegistry registry,
    ReplicaVerifier verifier,
    EventPublisher events,
    ErrorQueueInspector errorQueues,
    IServiceScopeFactory scopes,
    GatewayMetrics metrics,
    IOptions<ClusterOptions> cluster,
    TimeProvider clock,
    ILogger<NodeLivenessMonitor> logger) : BackgroundService
{
    private static readonly TimeSpan MeasureEvery = TimeSpan.FromSeconds(10);
    private readonly HashSet<Guid> _lost = [];
    private readonly HashSet<Guid> _abandoned = [];

    private async Task MeasureAsync(CancellationToken ct)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var counts = await scope.ServiceProvider.GetRequiredService<Replication.ReplicationQueries>().CountAsync(ct);
            metrics.ReplicationMeasured(counts.UnderReplicated, counts.Repairable, counts.Unreadable);
            // Null without a broker (no error queues) or when it cannot be read: the gauge keeps its last value.
            if ((await errorQueues.DepthsAsync(ct)).Depths is { } depths) metrics.ErrorQueuesMeasured(depths.Values.Sum());
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            logger.LogDebug(e, "Counting under-replicated chunks failed");
        }
    }

    /// <summary>
    /// A node that stopped heartbeating while others still do is partitioned, hung or gone: requests in flight to it are
    /// failed at once so that they move on to other nodes. When no node heartbeats (the metadata store or this gateway
    /// stalled) the silence says nothing about the nodes, and their requests are left alone.
    /// </summary>
    private void AbandonRequestsToSilentNodes(IReadOnlyList<NodeView> nodes, bool judging)
    {
        if (!judging || !nodes.Any(n => n.IsLive)) return;
        foreach (var node in nodes)
        {
            if (node.IsLive)
            {
                _abandoned.Remove(node.Id);
            }
            else if (_abandoned.Add(node.Id))
            {
                logger.LogWarning("Storage node {Name} is {State} (last heartbeat {Last:O}); requests in flight to it move to other nodes",
                    node.Name, node.State, node.LastHeartbeatAt);
                registry.AbandonRequests(node.Id);
            }
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        registry.Registered += id => verifier.Schedule(id);
        var started = clock.GetUtcNow();
        var lastMeasured = DateTimeOffset.MinValue;
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(Math.Max(100, cluster.Value.HeartbeatIntervalMs / 2)), clock);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // After a gateway restart every node looks silent until its next heartbeat: wait one dead-time before judging.
                var judging = clock.GetUtcNow() - started > cluster.Value.DeadAfter;
                // Heartbeats another gateway received, and its registrations, drains and removals.
                try
                {
                    await registry.RefreshAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogDebug(e, "Refreshing the nodes from the metadata failed");
                }
                var nodes = registry.Snapshot();
                AbandonRequestsToSilentNodes(nodes, judging);
                foreach (var node in nodes)
                {
                    if (node.State == Contracts.Api.NodeStates.Dead)
                    {
                        if (judging && _lost.Add(node.Id))
                        {
                            logger.LogWarning("Storage node {Name} is dead (last heartbeat {Last:O}); its chunks will be re-replicated", node.Name, node.LastHeartbeatAt);
                            registry.MarkUnverified(node.Id);
                            events.Enqueue(new NodeLost(node.Id, node.Name, node.LastHeartbeatAt));
                        }
                    }
                    else if (_lost.Remove(node.Id))
                    {
                        logger.LogInformation("Storage node {Name} is back; checking its chunks against the metadata", node.Name);
                        verifier.Schedule(node.Id);
                    }
                }
                if (clock.GetUtcNow() - lastMeasured > MeasureEvery)
                {
                    lastMeasured = clock.GetUtcNow();
                    await MeasureAsync(stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
