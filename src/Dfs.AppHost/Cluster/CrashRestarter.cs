using System.Collections.Concurrent;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// DCP does not restart a process that ends by itself: the AppHost does, for every service and server whose process
/// ended with a failure without being asked to stop, after a backoff that doubles with each restart (1 s up to 30 s,
/// back to 1 s once it has run for a minute). The count is the resource's "restarts" property on the dashboard.
/// A process that ends with exit code 0 by itself (a storage node removed from the cluster) stays stopped.
/// </summary>
internal sealed class CrashRestarter(DfsCluster cluster, ResourceNotificationService notifications, ResourceCommandService commands,
    ResourceLoggerService logs, IHostApplicationLifetime lifetime, ILogger<CrashRestarter> logger) : BackgroundService
{
    public const string RestartsProperty = "restarts";
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Stable = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, Track> _tracks = new(StringComparer.Ordinal);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!cluster.Options.RestartCrashed) return;
        try
        {
            await foreach (var e in notifications.WatchAsync(stoppingToken))
            {
                // Hidden resources are Aspire's machinery, not the cluster's: a project's "-rebuilder" runs `dotnet build` for the
                // dashboard's Rebuild, and a failed build must end there, not run again and again.
                if (e.Resource is not (ProjectResource or ExecutableResource) || e.Resource.Name == "aspire-dashboard" || e.Snapshot.IsHidden) continue;
                var track = _tracks.GetOrAdd(e.ResourceId, _ => new Track());
                var state = e.Snapshot.State?.Text;
                if (state == KnownResourceStates.Stopping) track.StopRequested = true;
                else if (state == KnownResourceStates.Running && track.RunningSince is null) track.RunningSince = DateTime.UtcNow;
                else if (state == KnownResourceStates.Starting) track.RunningSince = null;
                if (state is null || !KnownResourceStates.TerminalStates.Contains(state)) continue;

                var crashed = !track.StopRequested && e.Snapshot.ExitCode is not 0 && track.RunningSince is not null || state == KnownResourceStates.FailedToStart;
                track.StopRequested = false;
                var ranFor = DateTime.UtcNow - track.RunningSince;
                track.RunningSince = null;
                if (!crashed || track.Pending || lifetime.ApplicationStopping.IsCancellationRequested) continue;
                if (ranFor >= Stable) track.Backoff = FirstBackoff;
                track.Pending = true;
                _ = RestartAsync(e.Resource, e.ResourceId, e.Snapshot.ExitCode, track, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task RestartAsync(IResource resource, string resourceId, int? exitCode, Track track, CancellationToken ct)
    {
        var log = logs.GetLogger(resource);
        try
        {
            var delay = track.Backoff;
            track.Backoff = TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, delay.Ticks * 2));
            log.LogWarning("{Resource} ended by itself (exit code {ExitCode}); restarting it in {Delay} s", resource.Name, exitCode, delay.TotalSeconds);
            await Task.Delay(delay, ct);
            // Someone may have started (or stopped) it meanwhile: then it is theirs.
            if (!notifications.TryGetCurrentState(resourceId, out var current) || current.Snapshot.State?.Text is not { } state
                || !KnownResourceStates.TerminalStates.Contains(state))
                return;
            var restarts = Interlocked.Increment(ref track.Restarts);
            await notifications.PublishUpdateAsync(resource, resourceId, s => s with { Properties = s.Properties.SetProperty(RestartsProperty, restarts) });
            var result = await commands.ExecuteCommandAsync(resourceId, KnownResourceCommands.StartCommand, ct);
            if (!result.Success) log.LogError("Restarting {Resource} failed: {Message}", resource.Name, result.Message);
            else logger.LogInformation("Restarted {Resource} (restart {Count})", resource.Name, restarts);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            track.Pending = false;
        }
    }

    private sealed class Track
    {
        public bool StopRequested;
        public bool Pending;
        public DateTime? RunningSince;
        public TimeSpan Backoff = FirstBackoff;
        public int Restarts;
    }
}
