using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dfs.ServiceDefaults;

/// <summary>
/// Stops the service when the AppHost that started it (DFS_PARENT_PID) is gone: a SIGKILLed AppHost
/// cannot stop its children, so they notice by themselves within a second. Does nothing when the
/// variable is absent (a service started by hand or under another orchestrator).
/// </summary>
public sealed class ParentProcessWatchdog(
    IConfiguration configuration,
    IHostApplicationLifetime lifetime,
    ILogger<ParentProcessWatchdog> logger) : BackgroundService
{
    public const string ParentPidVariable = "DFS_PARENT_PID";

    public static TimeSpan CheckInterval { get; } = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!int.TryParse(configuration[ParentPidVariable], out var parentPid) || parentPid <= 0) return;

        using var timer = new PeriodicTimer(CheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                if (IsAlive(parentPid)) continue;
                logger.LogWarning("The parent process {ParentPid} is gone; stopping", parentPid);
                lifetime.StopApplication();
                return;
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && !IsZombie(pid);
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>A killed parent not yet reaped by its own parent still has a /proc entry, in state Z.</summary>
    private static bool IsZombie(int pid)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var close = stat.LastIndexOf(')');
            return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }
}
