using System.Runtime.InteropServices;
using Dfs.AppHost.Resources;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Hosting;

/// <summary>The exe: read settings, start the cluster, run until Ctrl+C or SIGTERM, stop everything.</summary>
public static class DfsHost
{
    public const int ExitOk = 0;
    public const int ExitStartFailed = 1;
    public const int ExitInvalidOptions = 2;

    public static async Task<int> RunAsync(string[] args)
    {
        var command = AppHostConfiguration.Parse(args);
        if (command.ShowHelp)
        {
            Console.Out.Write(AppHostConfiguration.HelpText());
            return ExitOk;
        }
        if (!command.IsValid) return InvalidOptions(command.Errors);

        using var loggerFactory = AppHostConsoleFormatter.CreateLoggerFactory(
            Environment.GetEnvironmentVariable("DFS_APPHOST_VERBOSE") is "1" or "true" ? LogLevel.Debug : LogLevel.Information);
        var logger = loggerFactory.CreateLogger("Dfs.AppHost");

        DfsApplicationBuilder builder;
        try
        {
            builder = DfsApplicationBuilder.Create(command.Options!, loggerFactory);
        }
        catch (AppHostConfigurationException e)
        {
            return InvalidOptions([e.Message]);
        }

        await using var app = builder.Build();
        using var shutdown = new CancellationTokenSource();
        var signals = 0;
        void OnSignal(string what)
        {
            if (Interlocked.Increment(ref signals) == 1)
            {
                logger.LogInformation("{Signal}: stopping every resource (again to kill them at once)", what);
                shutdown.Cancel();
            }
            else
            {
                logger.LogWarning("{Signal} again: killing every resource", what);
                app.KillAll();
            }
        }
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            OnSignal("Ctrl+C");
        };
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            OnSignal("SIGTERM");
        });
        using var sigquit = PosixSignalRegistration.Create(PosixSignal.SIGQUIT, context =>
        {
            context.Cancel = true;
            OnSignal("SIGQUIT");
        });

        try
        {
            await app.StartAsync(shutdown.Token);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            await app.StopAsync();
            return ExitOk;
        }
        catch (ResourceStartException e)
        {
            logger.LogError("{Message}", e.Message);
            logger.LogError("Logs of every resource: {Logs}", Path.Combine(app.StateDirectory, "logs"));
            await app.StopAsync();
            return ExitStartFailed;
        }

        if (app.GatewayUrl is { } gateway) Console.Out.WriteLine($"Dfs gateway: {gateway.ToString().TrimEnd('/')}");
        if (app.DashboardLoginUrl is { } login) Console.Out.WriteLine($"Dashboard:   {login}");
        if (app.GatewayAdminPassword is not null)
            Console.Out.WriteLine($"Admin: dfs login --user {builder.GatewayAdminUser}   (password in {builder.GatewayAdminPasswordPath})");
        Console.Out.WriteLine($"Cluster file: {app.ClusterFilePath}   (Ctrl+C stops everything)");

        try
        {
            await Task.Delay(Timeout.Infinite, shutdown.Token);
        }
        catch (OperationCanceledException)
        {
        }
        await app.StopAsync();
        logger.LogInformation("Stopped");
        return ExitOk;
    }

    private static int InvalidOptions(IEnumerable<string> errors)
    {
        foreach (var error in errors) Console.Error.WriteLine("error: " + error);
        Console.Error.WriteLine("Run with --help to see the options.");
        return ExitInvalidOptions;
    }
}
