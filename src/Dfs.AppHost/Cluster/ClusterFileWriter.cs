using System.Reflection;
using Dfs.AppHost.Servers;
using Dfs.Contracts.Cluster;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// STATE/cluster.json (the contract in docs/apphost.md), written once the gateway is healthy, kept current while the
/// cluster runs (a restarted resource's new pid and state) and removed on stop; and STATE/bin/dfs, a launcher for the
/// CLI this AppHost was built with, so that the sign-in line it prints works when pasted into a shell.
/// </summary>
internal sealed class ClusterFileWriter(DfsCluster cluster, DistributedApplicationModel model, ResourceNotificationService notifications,
    IConfiguration configuration, ILogger<ClusterFileWriter> logger) : BackgroundService
{
    private readonly Dictionary<string, ClusterResource> _resources = new(StringComparer.Ordinal);
    private bool _written;

    private string FilePath => Path.Combine(cluster.StateDirectory, ClusterFile.FileName);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A previous run's file would point at a gateway that is gone.
        File.Delete(FilePath);
        try
        {
            var gatewayHealthy = notifications.WaitForResourceHealthyAsync(DfsCluster.GatewayName, stoppingToken);
            await foreach (var e in notifications.WatchAsync(stoppingToken))
            {
                if (Describe(e) is not { } resource) continue;
                _resources[e.Resource.Name] = resource;
                if (!_written && !gatewayHealthy.IsCompleted) continue;
                if (!_written)
                {
                    _written = true;
                    Write();
                    _ = AnnounceWhenReadyAsync(stoppingToken);
                }
                else Write();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        File.Delete(FilePath);
    }

    private void Write()
    {
        var file = new ClusterFile(cluster.Profile.Profile, GatewayUrl, DashboardUrl,
            [.. model.Resources.Select(r => _resources.GetValueOrDefault(r.Name)).OfType<ClusterResource>()], S3: S3Url);
        try { file.Write(cluster.StateDirectory); }
        catch (IOException e) { logger.LogWarning("Writing {File} failed: {Error}", FilePath, e.Message); }
    }

    /// <summary>
    /// The sign-in line once everything the cluster started is healthy (the storage nodes start after the gateway): what
    /// it prints must work when pasted, and a put needs nodes.
    /// </summary>
    private async Task AnnounceWhenReadyAsync(CancellationToken ct)
    {
        try
        {
            var started = model.Resources
                .Where(r => (r.GetType() == typeof(ProjectResource) || r is PostgresServerResource or RabbitMqServerResource or EpmdResource or RedisServerResource)
                    && !r.TryGetLastAnnotation<ExplicitStartupAnnotation>(out _))
                .Select(r => notifications.WaitForResourceHealthyAsync(r.Name, ct));
            await Task.WhenAll(started);
            Announce();
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    private void Announce()
    {
        var dfs = WriteCliLauncher();
        Console.Out.WriteLine($"Dfs gateway:  {GatewayUrl}   (web console: {GatewayUrl}/console, OpenAPI: {GatewayUrl}/swagger)");
        Console.Out.WriteLine($"S3 endpoint:  {S3Url}   (access keys: {dfs} user keys create; docs/s3.md)");
        Console.Out.WriteLine($"Sign in:      {dfs} login --user {AdminPassword.User}");
        Console.Out.WriteLine($"Cluster file: {FilePath}   (Ctrl+C stops everything)");
    }

    /// <summary>The first gateway that runs (with --gateways G, a client finds the cluster while any of them does).</summary>
    private string GatewayUrl => EndpointUrl(cluster.GatewayScheme);

    /// <summary>The S3 API of that gateway.</summary>
    private string S3Url => EndpointUrl(DfsCluster.S3EndpointName);

    private string EndpointUrl(string endpointName)
    {
        var name = cluster.GatewayNames.FirstOrDefault(g => _resources.TryGetValue(g, out var r) && ResourceStates.IsRunning(r.State))
            ?? DfsCluster.GatewayName;
        var gateway = (ProjectResource)model.Resources.Single(r => r.Name == name);
        return $"{cluster.GatewayScheme}://127.0.0.1:{gateway.GetEndpoint(endpointName).Port}";
    }

    private string? DashboardUrl =>
        configuration["ASPNETCORE_URLS"]?.Split(';', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() is { } url
        && model.Resources.Any(r => r.Name == "aspire-dashboard")
            ? url.TrimEnd('/')
            : null;

    private ClusterResource? Describe(ResourceEvent e)
    {
        var kind = e.Resource switch
        {
            PostgresServerResource => "postgres",
            RabbitMqServerResource => "rabbitmq",
            EpmdResource => "epmd",
            RedisServerResource => "redis",
            ProjectResource p when cluster.GatewayNames.Contains(p.Name) => "gateway",
            ProjectResource p when p.Name == DfsCluster.ReplicatorName => "replicator",
            ProjectResource p when p.Name.StartsWith(DfsCluster.StorageNodePrefix, StringComparison.Ordinal) => "storage-node",
            _ => null,
        };
        if (kind is null) return null;
        var pid = e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int value => value,
            long value => (int)value,
            string text when int.TryParse(text, out var value) => value,
            _ => (int?)null,
        };
        // A project runs under `dotnet run`: the pid that matters is the service's own.
        if (pid is { } wrapper && e.Resource is ProjectResource project && project.TryGetLastAnnotation<IProjectMetadata>(out var metadata))
            pid = ProcessTable.ChildRunning(wrapper, Path.GetFileNameWithoutExtension(metadata.ProjectPath)) ?? wrapper;
        // The URL of the resource's first endpoint: the snapshot lists them by name, which would put the broker's Erlang
        // distribution port ("dist") before its AMQP one ("tcp").
        var primary = (e.Resource as IResourceWithEndpoints)?.GetEndpoints().FirstOrDefault()?.EndpointName;
        var urls = e.Snapshot.Urls.Where(u => !u.IsInternal).ToList();
        var url = (urls.FirstOrDefault(u => u.Name == primary) ?? urls.FirstOrDefault())?.Url;
        return new ClusterResource(e.Resource.Name, kind, e.Snapshot.State?.Text == KnownResourceStates.Running ? pid : null, url,
            e.Snapshot.State?.Text ?? KnownResourceStates.NotStarted);
    }

    /// <summary>STATE/bin/dfs: runs the dfs built beside this AppHost (the AppHost's build builds it).</summary>
    private string WriteCliLauncher()
    {
        var dll = typeof(ClusterFileWriter).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == "DfsCliPath")?.Value;
        var folder = Path.Combine(cluster.StateDirectory, "bin");
        var launcher = Path.Combine(folder, "dfs");
        if (dll is null) return "dfs";
        Directory.CreateDirectory(folder);
        // This cluster's state folder, so that dfs finds this cluster's cluster.json (and the admin password) whatever the shell says.
        var script = "#!/bin/sh\n"
            + "# Written by the Dfs AppHost: the dfs command line built with it, for the cluster in " + cluster.StateDirectory + ".\n"
            + "DFS_STATE_DIR='" + cluster.StateDirectory.Replace("'", "'\\''", StringComparison.Ordinal) + "' exec dotnet '"
            + dll.Replace("'", "'\\''", StringComparison.Ordinal) + "' \"$@\"\n";
        File.WriteAllText(launcher, script);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(launcher, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return launcher;
    }
}
