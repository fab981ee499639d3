using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Diagnostics;
using Dfs.StorageNode.Hosting;
using Dfs.ServiceDefaults;
using Dfs.StorageNode.Usage;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Registration;

/// <summary>
/// Registers the node with the gateway once the server listens, then heartbeats; registers again whenever
/// the gateway answers that it does not know the node (e.g. it restarted on a new database). Failures are
/// logged and retried: a gateway outage must never take a node down. The one answer that ends the process is
/// 410 Gone: the node was removed from the cluster, and it stops cleanly (exit code 0) so that an orchestrator
/// sees a finished process, not a crash to restart.
/// </summary>
internal sealed class GatewayRegistrationService(
    IGatewayInternalApi gateway,
    NodeIdentity identity,
    UsageTracker usage,
    AdvertisedAddress address,
    RegistrationState state,
    IOptions<StorageNodeOptions> nodeOptions,
    IOptions<ClusterOptions> clusterOptions,
    IHostApplicationLifetime lifetime,
    ILogger<GatewayRegistrationService> logger) : BackgroundService
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await WaitForServerStartedAsync(stoppingToken);
            var url = address.Resolve();
            while (true)
            {
                var interval = await RegisterAsync(url, stoppingToken);
                if (await HeartbeatUntilForgottenAsync(interval, stoppingToken) is { } removal)
                {
                    logger.LogWarning("Gateway {Gateway} says node {NodeId} ({Name}) was removed from the cluster ({Reason}): stopping this node. "
                                      + "Start it again to have it rejoin as a new, empty node.",
                        GatewayLink.BaseAddress, identity.Id, nodeOptions.Value.Name, removal);
                    lifetime.StopApplication();
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>The bound address (and so the URL to advertise) is only known once the server has started.</summary>
    private async Task WaitForServerStartedAsync(CancellationToken ct)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var registration = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await started.Task.WaitAsync(ct);
    }

    /// <summary>Retries until the gateway accepts; returns the heartbeat interval to use.</summary>
    private async Task<TimeSpan> RegisterAsync(string url, CancellationToken ct)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            using var activity = StorageNodeTelemetry.ActivitySource.StartActivity("node register");
            try
            {
                var ack = await gateway.RegisterNodeAsync(
                    new NodeRegistration(identity.Id, nodeOptions.Value.Name, url, usage.Snapshot()), ct);
                state.MarkRegistered();
                logger.LogInformation("Registered node {NodeId} ({Name}) at {Url} with gateway {Gateway}",
                    identity.Id, nodeOptions.Value.Name, url, GatewayLink.BaseAddress);
                return HeartbeatInterval(ack);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
                logger.LogWarning("Registration with gateway {Gateway} failed (attempt {Attempt}), retrying in {Delay} ms: {Error}",
                    GatewayLink.BaseAddress, attempt, delay.TotalMilliseconds, e.Message);
            }
            await Task.Delay(delay, ct);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
        }
    }

    /// <summary>Our configured interval, or the gateway's when it asks for more frequent heartbeats.</summary>
    private TimeSpan HeartbeatInterval(NodeRegistrationAck ack)
    {
        var ms = clusterOptions.Value.HeartbeatIntervalMs;
        if (ack.HeartbeatIntervalMs > 0) ms = Math.Min(ms, ack.HeartbeatIntervalMs);
        return TimeSpan.FromMilliseconds(ms);
    }

    /// <summary>Heartbeats until the gateway forgot the node (null: register again) or removed it (the gateway's reason).</summary>
    private async Task<string?> HeartbeatUntilForgottenAsync(TimeSpan interval, CancellationToken ct)
    {
        var failures = 0;
        while (true)
        {
            await Task.Delay(interval, ct);
            try
            {
                var answer = await gateway.HeartbeatAsync(identity.Id, new NodeHeartbeat(usage.Snapshot()), ct);
                if (answer.Outcome == HeartbeatOutcome.Removed)
                    return answer.Reason ?? "410 Gone";
                if (answer.Outcome == HeartbeatOutcome.Unknown)
                {
                    logger.LogWarning("Gateway {Gateway} does not know node {NodeId}: registering again", GatewayLink.BaseAddress, identity.Id);
                    return null;
                }
                if (failures > 0) logger.LogInformation("Heartbeats to gateway {Gateway} succeed again after {Failures} failures", GatewayLink.BaseAddress, failures);
                failures = 0;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failures++;
                logger.LogWarning("Heartbeat to gateway {Gateway} failed ({Failures} in a row): {Error}", GatewayLink.BaseAddress, failures, e.Message);
            }
        }
    }
}
