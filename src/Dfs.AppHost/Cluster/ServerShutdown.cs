using Dfs.AppHost.Servers;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// Stops the servers the way they stop cleanly: when the AppHost stops (Ctrl+C, SIGTERM) before DCP stops anything, and
/// PostgreSQL also when its own Stop runs (DCP's SIGTERM would start a shutdown that waits for every client to leave).
/// </summary>
internal sealed class ServerShutdown(DistributedApplicationModel model, ResourceNotificationService notifications, ResourceLoggerService logs,
    ILogger<ServerShutdown> logger) : BackgroundService
{
    private static readonly TimeSpan StopLimit = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var stopping = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            await foreach (var e in notifications.WatchAsync(stoppingToken))
            {
                if (e.Resource is not PostgresServerResource postgres) continue;
                if (e.Snapshot.State?.Text != KnownResourceStates.Stopping)
                {
                    stopping.Remove(e.ResourceId);
                    continue;
                }
                if (stopping.Add(e.ResourceId))
                    _ = postgres.StopCleanlyAsync(logs.GetLogger(postgres), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(StopLimit);
        var servers = model.Resources.OfType<ICleanlyStoppedServer>().ToList();
        try
        {
            await Task.WhenAll(servers.Select(server => server.StopCleanlyAsync(logs.GetLogger(server), limit.Token)));
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("The servers did not stop within {Limit}; DCP stops what is left", StopLimit);
        }
    }
}
