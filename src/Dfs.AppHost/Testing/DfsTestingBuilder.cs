using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Testing;

/// <summary>
/// Builds the AppHost's model for a test, in the shape of Aspire.Hosting.Testing: a fresh temp StateDir
/// (deleted when the application is disposed) unless one is set, a short stop grace period, the dashboard on a
/// free port, then the
/// caller's overrides.
/// </summary>
public static class DfsTestingBuilder
{
    /// <summary>The standard cluster (local profile: postgres, rabbitmq, gateway, node-1..N, replicator; embedded: gateway, node-1..N).</summary>
    public static DfsApplicationBuilder Create(Action<DfsAppHostOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        var (options, temporary) = Configure(configure);
        var builder = DfsApplicationBuilder.Create(options, loggerFactory);
        builder.DeleteStateDirectoryOnDispose = temporary;
        return builder;
    }

    /// <summary>No resources: add your own (AddPostgres, AddRabbitMq, AddExecutable, …).</summary>
    public static DfsApplicationBuilder CreateEmpty(Action<DfsAppHostOptions>? configure = null, ILoggerFactory? loggerFactory = null)
    {
        var (options, temporary) = Configure(configure);
        var builder = DfsApplicationBuilder.CreateEmpty(options, loggerFactory);
        builder.DeleteStateDirectoryOnDispose = temporary;
        return builder;
    }

    private static (DfsAppHostOptions Options, bool Temporary) Configure(Action<DfsAppHostOptions>? configure)
    {
        var options = new DfsAppHostOptions
        {
            StateDir = "",
            StopGracePeriod = TimeSpan.FromSeconds(2),
            // Tests run many clusters, some at once: each dashboard on a port of its own.
            DashboardPort = 0,
        };
        configure?.Invoke(options);
        if (!string.IsNullOrEmpty(options.StateDir)) return (options, false);
        // Not CreateTempSubdirectory: its mode 700 would keep the postgres user out.
        options.StateDir = Path.Combine(Path.GetTempPath(), "dfs-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(options.StateDir);
        return (options, true);
    }
}
