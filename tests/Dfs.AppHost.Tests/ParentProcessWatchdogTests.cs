using System.Diagnostics;
using System.Globalization;
using Dfs.ServiceDefaults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dfs.AppHost.Tests;

/// <summary>A service started by the AppHost stops by itself when the AppHost is gone (it may have been SIGKILLed).</summary>
public sealed class ParentProcessWatchdogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static IHost BuildService(string? parentPid)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        if (parentPid is not null) builder.Configuration[ParentProcessWatchdog.ParentPidVariable] = parentPid;
        builder.AddServiceDefaults();
        return builder.Build();
    }

    private static Task Stopping(IHost host)
    {
        var stopping = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.Register(() => stopping.TrySetResult());
        return stopping.Task;
    }

    [Fact]
    public async Task The_service_stops_when_its_parent_dies()
    {
        using var parent = Process.Start(new ProcessStartInfo("/bin/sleep", "1000") { UseShellExecute = false })!;
        using var host = BuildService(parent.Id.ToString(CultureInfo.InvariantCulture));
        var stopping = Stopping(host);
        await host.StartAsync(Ct);

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);
        Assert.False(stopping.IsCompleted, "the parent is alive: keep running");

        parent.Kill();
        await parent.WaitForExitAsync(Ct);

        await stopping.WaitAsync(TimeSpan.FromSeconds(3), Ct);
        await host.StopAsync(Ct);
    }

    [Fact]
    public async Task Without_a_parent_pid_the_service_keeps_running()
    {
        using var host = BuildService(null);
        var stopping = Stopping(host);
        await host.StartAsync(Ct);

        await Task.Delay(TimeSpan.FromSeconds(1.5), Ct);

        Assert.False(stopping.IsCompleted);
        await host.StopAsync(Ct);
    }

    [Fact]
    public void Liveness_is_checked_through_the_process_table()
    {
        Assert.True(ParentProcessWatchdog.IsAlive(Environment.ProcessId));
        Assert.False(ParentProcessWatchdog.IsAlive(int.MaxValue - 1));
    }
}
