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
    /// <summary>Faster than the product's defaults (2 s, 15 s) so a node loss is noticed within the benchmark's patience; shorter still in short mode.</summary>
    /// <summary>The gateway's per-user rate limit during the benchmark (requests a second, also the burst).</summary>
    public const int RateLimit = 1_000_000;

    public static int HeartbeatIntervalMs(BenchOptions o) => o.Short ? 250 : 500;

    public static int NodeDeadAfterMs(BenchOptions o) => o.Short ? 1500 : 3000;

    private const string AdminUser = "admin";

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
        // The first admin's password, so the benchmark can get itself a token like any client (ignored by a gateway without authentication).
        var adminPassword = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Local;
            o.Nodes = Nodes;
            o.ReplicationFactor = ReplicationFactor;
            o.ChunkSizeBytes = options.ChunkSize;
            o.HeartbeatIntervalMs = HeartbeatIntervalMs(options);
            o.NodeDeadAfterMs = NodeDeadAfterMs(options);
            // Deleted files of one run must not fill the disk before the next: a shorter grace than the product's hour.
            // The pass interval stays the product's (60 s): every pass lists each node's chunks, which is load.
            o.GcGraceMs = 30_000;
            o.StartTimeout = TimeSpan.FromMinutes(2);
            // Experiments only (what would move a figure): extra environment for every Dfs service.
            foreach (var name in new[] { ResourceNames.Gateway, ResourceNames.Replicator }.Concat(Enumerable.Range(1, Nodes).Select(ResourceNames.StorageNode)))
                o.ResourceEnvironment[name] = new Dictionary<string, string>(options.ServiceEnvironment);
            o.ResourceEnvironment[ResourceNames.Gateway]["Dfs__Gateway__Auth__AdminUser"] = AdminUser;
            o.ResourceEnvironment[ResourceNames.Gateway]["Dfs__Gateway__Auth__AdminPassword"] = adminPassword;
            // The benchmark is one user, and the per-user limit (500 requests a second by default) would measure the
            // limiter, not the gateway: 429s at 64 clients. nginx runs without one.
            o.ResourceEnvironment[ResourceNames.Gateway]["Dfs__Gateway__RateLimit__PermitsPerSecond"] = RateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
            o.ResourceEnvironment[ResourceNames.Gateway]["Dfs__Gateway__RateLimit__Burst"] = RateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
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
        var target = new DfsTarget(app, app.GatewayUrl!, work)
        {
            Description = $"local profile started by the benchmark: PostgreSQL, RabbitMQ, gateway, {Nodes} storage nodes, Replicator; " +
                          $"replication factor {ReplicationFactor}, chunk size {Sizes.Format(options.ChunkSize)}, heartbeat {HeartbeatIntervalMs(options)} ms, " +
                          $"node dead after {NodeDeadAfterMs(options)} ms, rate limit {RateLimit:N0} requests/s; services built in {ServiceProjects.BuiltConfiguration}" +
                          (options.ServiceEnvironment.Count == 0 ? "" : "; EXPERIMENT, services run with " + string.Join(" ", options.ServiceEnvironment.Select(e => $"{e.Key}={e.Value}"))),
        };
        try
        {
            await target.SignInAsync(AdminUser, adminPassword, ct);
        }
        catch
        {
            await target.DisposeAsync();
            throw;
        }
        return target;
    }

    /// <summary>
    /// Gets a bearer token with the admin's password (POST /api/auth/tokens) and sends it from then on, as a client
    /// of the public API does. A gateway without authentication (404 there) is used as it is.
    /// </summary>
    private async Task SignInAsync(string user, string password, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/tokens")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { name = "dfs-bench" }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(user + ":" + password)));
        using var response = await Http.SendAsync(request, ct);
        if (response.StatusCode is System.Net.HttpStatusCode.NotFound or System.Net.HttpStatusCode.MethodNotAllowed) return;
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Could not get a token from the gateway: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        using var json = await System.Text.Json.JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(ct), cancellationToken: ct);
        UseToken(json.RootElement.GetProperty("token").GetString()!);
    }

    private void UseToken(string token) =>
        Http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);

    /// <param name="token">A bearer token for the gateway (--token or DFS_TOKEN); null for a gateway without authentication.</param>
    public static DfsTarget Attach(Uri gateway, string? token)
    {
        var work = Path.Combine(Path.GetTempPath(), "dfs-bench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(work);
        var target = new DfsTarget(null, gateway, work)
        {
            Description = $"running cluster at {gateway} (not started by the benchmark: node kills, re-replication and RSS skipped; " +
                          "the fsync-copy baseline ran in the temp folder, which may be another disk than the cluster's)",
        };
        if (token is not null) target.UseToken(token);
        return target;
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

    /// <summary>
    /// PostgreSQL's cumulative transaction counters for the metadata database (commits, rollbacks: a serializable
    /// transaction that loses a race rolls back and is retried). Backends report them at most once a second, so a
    /// phase's difference is approximate at its edges. Empty when the database is not ours to read.
    /// </summary>
    public IReadOnlyDictionary<string, double> DatabaseCounters()
    {
        if (_app?.GetConnectionString(ResourceNames.MetadataConnection) is not { } connectionString || _counterFailures > 3)
            return new Dictionary<string, double>();
        try
        {
            using var connection = new Npgsql.NpgsqlConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "select xact_commit, xact_rollback, tup_inserted, tup_updated, tup_deleted, tup_fetched from pg_stat_database where datname = current_database()";
            using var reader = command.ExecuteReader();
            if (!reader.Read()) return new Dictionary<string, double>();
            string[] names = ["pg.commits", "pg.rollbacks", "pg.rows inserted", "pg.rows updated", "pg.rows deleted", "pg.rows fetched"];
            return names.Select((n, i) => (n, (double)reader.GetInt64(i))).ToDictionary(x => x.n, x => x.Item2);
        }
        catch (Exception e) when (e is Npgsql.NpgsqlException or InvalidOperationException or ArgumentException)
        {
            _counterFailures++;
            return new Dictionary<string, double>();
        }
    }

    private int _counterFailures;

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
