using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Diagnostics;
using Dfs.StorageNode.Hosting;
using Dfs.StorageNode.Usage;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Registration;

/// <summary>
/// Registers the node with the gateway once the server listens, then heartbeats; registers again whenever
/// the gateway answers that it does not know the node (e.g. it restarted on a new database). Failures are
/// logged and retried: a gateway outage must never take a node down.
/// </summary>
internal sealed class GatewayRegistrationService(
    IClusterClient cluster,
    NodeIdentity identity,
    UsageTracker usage,
    AdvertisedAddress address,
    RegistrationState state,
    GatewayEndpoint gateway,
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
                await HeartbeatUntilForgottenAsync(interval, stoppingToken);
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
                var ack = await cluster.RegisterNodeAsync(
                    new NodeRegistration(identity.Id, nodeOptions.Value.Name, url, usage.Snapshot()), ct);
                state.MarkRegistered();
                logger.LogInformation("Registered node {NodeId} ({Name}) at {Url} with gateway {Gateway}",
                    identity.Id, nodeOptions.Value.Name, url, gateway.Url);
                return HeartbeatInterval(ack);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
                logger.LogWarning("Registration with gateway {Gateway} failed (attempt {Attempt}), retrying in {Delay} ms: {Error}",
                    gateway.Url, attempt, delay.TotalMilliseconds, e.Message);
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

    private async Task HeartbeatUntilForgottenAsync(TimeSpan interval, CancellationToken ct)
    {
        var failures = 0;
        while (true)
        {
            await Task.Delay(interval, ct);
            try
            {
                if (!await cluster.HeartbeatAsync(identity.Id, new NodeHeartbeat(usage.Snapshot()), ct))
                {
                    logger.LogWarning("Gateway {Gateway} does not know node {NodeId}: registering again", gateway.Url, identity.Id);
                    return;
                }
                if (failures > 0) logger.LogInformation("Heartbeats to gateway {Gateway} succeed again after {Failures} failures", gateway.Url, failures);
                failures = 0;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                failures++;
                logger.LogWarning("Heartbeat to gateway {Gateway} failed ({Failures} in a row): {Error}", gateway.Url, failures, e.Message);
            }
        }
    }
}
