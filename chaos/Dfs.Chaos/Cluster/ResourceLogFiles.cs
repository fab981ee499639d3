using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Dfs.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Chaos.Cluster;

/// <summary>
/// Every AppHost resource's console output, in a file per resource (logs/gateway.log, …): what a failing run's verdict is
/// traced back with. Each instance (a restart is a new one) is appended to its resource's file.
/// </summary>
public static class ResourceLogFiles
{
    public static void Start(DfsTestCluster cluster, string folder)
    {
        Directory.CreateDirectory(folder);
        var app = cluster.App;
        var logs = app.Services.GetRequiredService<ResourceLoggerService>();
        var watched = new HashSet<string>(StringComparer.Ordinal);
        var stopping = app.Services.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>().ApplicationStopping;
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in app.ResourceNotifications.WatchAsync(stopping))
                {
                    if (e.Resource is not (ExecutableResource or ProjectResource) || !watched.Add(e.ResourceId)) continue;
                    var path = Path.Combine(folder, e.Resource.Name + ".log");
                    var instance = e.ResourceId;
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await foreach (var batch in logs.WatchAsync(instance).WithCancellation(stopping))
                                await File.AppendAllLinesAsync(path, batch.Select(l => l.Content), CancellationToken.None);
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    }, CancellationToken.None);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }, CancellationToken.None);
    }
}
