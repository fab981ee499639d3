using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Testing;
using Dfs.Contracts.Clients;
using Microsoft.Extensions.Logging;

namespace Dfs.Bench.Cluster;

/// <summary>
/// The Dfs under test: a cluster the benchmark starts through the AppHost's testing builder (local profile:
/// PostgreSQL, RabbitMQ, gateway, four nodes, Replicator), or a running one reached by URL, in which case
/// nothing needing process control (node kills, RSS) can be measured.
/// </summary>
public sealed class DfsTarget : IAsyncDisposable
{
    public const int Nodes = 4;
    public const int ReplicationFactor = 3;
    public const int HeartbeatIntervalMs = 500;
    public const int NodeDeadAfterMs = 3000;

    private readonly DfsApplication? _app;
    private readonly SocketsHttpHandler _handler;

    private DfsTarget(DfsApplication? app, Uri gateway, string workDirectory)
    {
        _app = app;
        GatewayUrl = gateway;
        WorkDirectory = workDirectory;
        // Enough connections for the highest concurrency; never recycled mid-measurement.
        _handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        Http = new HttpClient(_handler, disposeHandler: false) { BaseAddress = gateway, Timeout = Timeout.InfiniteTimeSpan };
        Client = new GatewayClient(Http);
    }

    public Uri GatewayUrl { get; }
    public HttpClient Http { get; }
    public GatewayClient Client { get; }

    /// <summary>Our scratch folder (test files, nginx's prefix, the fsync copy): inside the cluster's state folder, so on the same disk.</summary>
    public string WorkDirectory { get; }

    /// <summary>True when we started the cluster: nodes can be killed and processes measured.</summary>
    public bool ControlsProcesses => _app is not null;

    public string Description { get; private init; } = "";

    public static async Task<DfsTarget> StartAsync(BenchOptions options, ILoggerFactory loggerFactory, CancellationToken ct)
    {
        var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Local;
            o.Nodes = Nodes;
            o.ReplicationFactor = ReplicationFactor;
            o.ChunkSizeBytes = options.ChunkSize;
            o.HeartbeatIntervalMs = HeartbeatIntervalMs;
            o.NodeDeadAfterMs = NodeDeadAfterMs;
            // Deleted files of one run must not fill the disk before the next; 20 s keeps collection out of the measurements.
            o.GcGraceMs = 20_000;
            o.GcIntervalMs = 5_000;
            o.StartTimeout = TimeSpan.FromMinutes(2);
        }, loggerFactory).Build();
        try
        {
            await app.StartAsync(ct);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
        var work = Path.Combine(app.StateDirectory, "bench");
        Directory.CreateDirectory(work);
        return new DfsTarget(app, app.GatewayUrl!, work)
        {
            Description = $"local profile started by the benchmark: PostgreSQL, RabbitMQ, gateway, {Nodes} storage nodes, Replicator; " +
                          $"replication factor {ReplicationFactor}, chunk size {Sizes.Format(options.ChunkSize)}, heartbeat {HeartbeatIntervalMs} ms, " +
                          $"node dead after {NodeDeadAfterMs} ms; services built in {ServiceProjects.BuiltConfiguration}",
        };
    }

    public static DfsTarget Attach(Uri gateway)
    {
        var work = Path.Combine(Path.GetTempPath(), "dfs-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        return new DfsTarget(null, gateway, work)
        {
            Description = $"running cluster at {gateway} (not started by the benchmark: node kills, re-replication and RSS skipped; " +
                          "the fsync-copy baseline ran in the temp folder, which may be another disk than the cluster's)",
        };
    }

    public DfsApplication App => _app ?? throw new InvalidOperationException("The benchmark did not start this cluster.");

    public IReadOnlyList<string> NodeNames => Enumerable.Range(1, Nodes).Select(ResourceNames.StorageNode).ToList();

    /// <summary>Component → root pids of its processes (empty when not ours or not running).</summary>
    public IReadOnlyDictionary<string, int[]> ProcessGroups()
    {
        if (_app is null) return new Dictionary<string, int[]>();
        int[] Pids(IEnumerable<string> names) => names.Select(n => _app.Resources.Any(r => r.Name == n) ? _app.GetResource(n).Pid : null)
            .OfType<int>().ToArray();
        return new Dictionary<string, int[]>(StringComparer.Ordinal)
        {
            ["gateway"] = Pids([ResourceNames.Gateway]),
            ["nodes"] = Pids(NodeNames),
            ["replicator"] = Pids([ResourceNames.Replicator]),
            ["postgres"] = Pids([ResourceNames.Postgres]),
            ["rabbitmq"] = Pids([ResourceNames.RabbitMq]),
        };
    }

    public Task KillAsync(string name, CancellationToken ct) => App.KillResourceAsync(name, ct);

    public Task RestartAsync(string name, CancellationToken ct) => App.StartResourceAsync(name, ct);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _handler.Dispose();
        if (_app is not null) await _app.DisposeAsync();
        else
        {
            try { Directory.Delete(WorkDirectory, recursive: true); }
            catch (IOException) { }
        }
    }
}
