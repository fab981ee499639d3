using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Settings;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dfs.Testing;

/// <summary>
/// One server of the local profile (PostgreSQL, RabbitMQ or Redis) alone, run by the AppHost's own hosting integration
/// in an application of its own (<see cref="DistributedApplicationTestingBuilder.Create(string[])"/>), for tests that need a
/// real server but not a cluster. Stopped cleanly on dispose, and its folder deleted when it was a temporary one.
/// </summary>
public sealed class DfsServer : IAsyncDisposable
{
    private readonly bool _temporary;

    private DfsServer(DistributedApplication app, IResource resource, string stateDirectory, string connectionString, bool temporary)
    {
        App = app;
        Resource = resource;
        StateDirectory = stateDirectory;
        ConnectionString = connectionString;
        _temporary = temporary;
    }

    public DistributedApplication App { get; }

    public IResource Resource { get; }

    public string StateDirectory { get; }

    public string ConnectionString { get; }

    public static Task<DfsServer> StartPostgresAsync(CancellationToken ct = default) =>
        StartAsync((builder, state) => builder.AddPostgresServer("metadata",
            ProfileDetector.FindPostgresBin() ?? throw new InvalidOperationException("PostgreSQL is not installed (apt-get install postgresql)."), state), ct);

    public static Task<DfsServer> StartRabbitMqAsync(CancellationToken ct = default) =>
        StartAsync((builder, state) => builder.AddRabbitMqServer("messaging",
            RabbitMqServerResource.FindServerScript() ?? throw new InvalidOperationException("RabbitMQ is not installed (apt-get install rabbitmq-server)."), state), ct);

    public static Task<DfsServer> StartRedisAsync(CancellationToken ct = default) =>
        StartAsync((builder, state) => builder.AddRedisServer("cache",
            RedisServerResource.FindServer() ?? throw new InvalidOperationException("Redis is not installed (apt-get install redis-server)."), state), ct);

    /// <summary>
    /// Any server resource that has a connection string, in a fresh state folder, or in <paramref name="stateDirectory"/>,
    /// which is kept: a second server started there finds the first one's data (a restart of the application).
    /// </summary>
    public static async Task<DfsServer> StartAsync<T>(Func<IDistributedApplicationBuilder, string, IResourceBuilder<T>> add, CancellationToken ct,
        string? stateDirectory = null)
        where T : IResourceWithConnectionString
    {
        var state = stateDirectory ?? DfsTestCluster.NewStateDirectory();
        var builder = DistributedApplicationTestingBuilder.Create([], (options, _) => options.DisableDashboard = true);
        var server = add(builder, state);
        var app = await builder.BuildAsync(ct);
        try
        {
            await app.StartAsync(ct);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromMinutes(2));
            await app.ResourceNotifications.WaitForResourceHealthyAsync(server.Resource.Name, limit.Token);
            var connectionString = await server.Resource.ConnectionStringExpression.GetValueAsync(ct)
                ?? throw new InvalidOperationException($"{server.Resource.Name} has no connection string.");
            return new DfsServer(app, server.Resource, state, connectionString, temporary: stateDirectory is null);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The way the AppHost stops it at shutdown, before DCP's SIGTERM.
        if (Resource is ICleanlyStoppedServer server) await server.StopCleanlyAsync(NullLogger.Instance, CancellationToken.None);
        try
        {
            await App.StopAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
        }
        await App.DisposeAsync();
        if (!_temporary) return;
        try { Directory.Delete(StateDirectory, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
