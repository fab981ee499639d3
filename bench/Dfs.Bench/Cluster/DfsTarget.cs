using System.Globalization;
using System.Reflection;
using Aspire.Hosting.ApplicationModel;
using Dfs.Contracts.Clients;
using Dfs.Testing;

namespace Dfs.Bench.Cluster;

/// <summary>
/// The Dfs under test: a cluster the benchmark starts through the same harness as the tests (<see cref="DfsTestCluster"/>:
/// the real AppHost by Aspire's testing builder, local profile: PostgreSQL, RabbitMQ, Redis, gateway, four nodes,
/// Replicator), or a running one reached by URL, in which case nothing needing process control (node kills, RSS) can be
/// measured.
/// </summary>
public sealed class DfsTarget : IAsyncDisposable
{
    public const int Nodes = 4;
    public const int ReplicationFactor = 3;
    /// <summary>The gateway's per-user rate limit during the benchmark (requests a second, also the burst).</summary>
    public const int RateLimit = 1_000_000;

    /// <summary>Faster than the product's defaults (2 s, 15 s) so a node loss is noticed within the benchmark's patience; shorter still in short mode.</summary>
    public static int HeartbeatIntervalMs(BenchOptions o) => o.Short ? 250 : 500;

    public static int NodeDeadAfterMs(BenchOptions o) => o.Short ? 1500 : 3000;

    private static readonly string[] ServiceNames = ["gateway", "replicator", .. Enumerable.Range(1, Nodes).Select(i => $"node-{i}")];

    private readonly DfsTestCluster? _cluster;
    private readonly SocketsHttpHandler _handler;
    private readonly string? _metadataConnectionString;

    private DfsTarget(DfsTestCluster? cluster, Uri gateway, string workDirectory, string? metadataConnectionString)
    {
        _cluster = cluster;
        _metadataConnectionString = metadataConnectionString;
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
        Client = DfsRefit.Gateway(Http);
    }

    public Uri GatewayUrl { get; }
    public HttpClient Http { get; }
    public IGatewayApi Client { get; }

    /// <summary>Our scratch folder (test files, nginx's prefix, the fsync copy): inside the cluster's state folder, so on the same disk.</summary>
    public string WorkDirectory { get; }

    /// <summary>The `dfs` launcher the AppHost wrote into the cluster's state folder (STATE/bin/dfs); null when not ours.</summary>
    public string? CliLauncher => _cluster is not null && File.Exists(Path.Combine(_cluster.StateDirectory, "bin", "dfs"))
        ? Path.Combine(_cluster.StateDirectory, "bin", "dfs")
        : null;

    /// <summary>The bearer token the benchmark signed in with (for the `dfs` it runs).</summary>
    public string? Token => Http.DefaultRequestHeaders.Authorization?.Parameter;

    /// <summary>True when we started the cluster: nodes can be killed and processes measured.</summary>
    public bool ControlsProcesses => _cluster is not null;

    public string Description { get; private init; } = "";

    public static async Task<DfsTarget> StartAsync(BenchOptions options, CancellationToken ct)
    {
        var cluster = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = Nodes;
            o.ReplicationFactor = ReplicationFactor;
            o.ChunkSizeBytes = options.ChunkSize;
            o.HeartbeatIntervalMs = HeartbeatIntervalMs(options);
            o.NodeDeadAfterMs = NodeDeadAfterMs(options);
            // Deleted files of one run must not fill the disk before the next: a shorter grace than the product's hour.
            // The pass interval stays the product's (60 s): every pass lists each node's chunks, which is load.
            o.GcGraceMs = 30_000;
            // Quiet, and cheap for the measuring process: no resource output streamed into it, only the AppHost's warnings
            // (a server's health check fails while it boots: expected, not worth a line).
            o.ResourceLogs = false;
            o.ExtraArguments.AddRange(["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None"]);
            // Experiments only (what would move a figure): extra environment for every Dfs service.
            foreach (var name in ServiceNames) o.ResourceEnvironment[name] = new Dictionary<string, string>(options.ServiceEnvironment);
            // The benchmark is one user, and the per-user limit (500 requests a second by default) would measure the
            // limiter, not the gateway: 429s at 64 clients. nginx runs without one.
            o.ResourceEnvironment["gateway"]["Dfs__Gateway__RateLimit__PermitsPerSecond"] = RateLimit.ToString(CultureInfo.InvariantCulture);
            o.ResourceEnvironment["gateway"]["Dfs__Gateway__RateLimit__Burst"] = RateLimit.ToString(CultureInfo.InvariantCulture);
        }, ct);
        DfsTarget? target = null;
        try
        {
            var work = Path.Combine(cluster.StateDirectory, "bench");
            Directory.CreateDirectory(work);
            var configuration = typeof(Dfs.AppHost.Program).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "?";
            target = new DfsTarget(cluster, cluster.GatewayUrl, work, await cluster.GetConnectionStringAsync("metadata", ct))
            {
                Description = $"local profile started by the benchmark through the AppHost (DfsTestCluster): PostgreSQL, RabbitMQ, Redis, gateway, {Nodes} storage nodes, Replicator; " +
                              $"replication factor {ReplicationFactor}, chunk size {Sizes.Format(options.ChunkSize)}, heartbeat {HeartbeatIntervalMs(options)} ms, " +
                              $"node dead after {NodeDeadAfterMs(options)} ms, rate limit {RateLimit:N0} requests/s; services built in {configuration}" +
                              (options.ServiceEnvironment.Count == 0 ? "" : "; EXPERIMENT, services run with " + string.Join(" ", options.ServiceEnvironment.Select(e => $"{e.Key}={e.Value}"))),
            };
            // The first admin's password, so the benchmark gets itself a token like any client.
            await target.SignInAsync(Dfs.AppHost.Cluster.AdminPassword.User, DfsClusterOptions.AdminPassword, ct);
            return target;
        }
        catch
        {
            if (target is not null) await target.DisposeAsync();
            else await cluster.DisposeAsync();
            throw;
        }
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
        request.Headers.Authorization = GatewayCredentials.Basic(user, password);
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
        var target = new DfsTarget(null, gateway, work, null)
        {
            Description = $"running cluster at {gateway} (not started by the benchmark: node kills, re-replication and RSS skipped; " +
                          "the fsync-copy baseline ran in the temp folder, which may be another disk than the cluster's)",
        };
        if (token is not null) target.UseToken(token);
        return target;
    }

    private DfsTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The benchmark did not start this cluster.");

    public IReadOnlyList<string> NodeNames => [.. Enumerable.Range(1, Nodes).Select(i => $"node-{i}")];

    /// <summary>
    /// Component → pids of its processes (empty when not ours or not running). A service's pid is the service itself, not
    /// the `dotnet run` DCP starts it under (a process of its own of about 130 MB, no part of Dfs); a server's is its main
    /// process, whose children (PostgreSQL's backends, the broker's VM) its CPU counts.
    /// </summary>
    public IReadOnlyDictionary<string, int[]> ProcessGroups()
    {
        if (_cluster is null) return new Dictionary<string, int[]>();
        int[] Pids(IEnumerable<string> names) => [.. names.Select(TryProcessId).OfType<int>()];
        return new Dictionary<string, int[]>(StringComparer.Ordinal)
        {
            ["gateway"] = Pids(["gateway"]),
            ["nodes"] = Pids(NodeNames),
            ["replicator"] = Pids(["replicator"]),
            ["postgres"] = Pids(["metadata"]),
            ["rabbitmq"] = Pids(["messaging", "messaging-epmd"]),
            ["redis"] = Pids(["cache"]),
        };
    }

    /// <summary>Every process DCP started for the cluster (the `dotnet run` wrappers too): none may outlive the benchmark.</summary>
    public IReadOnlyList<int> StartedProcesses()
    {
        if (_cluster is null) return [];
        return [.. _cluster.Model.Resources.Where(r => r is ExecutableResource or ProjectResource)
            .Select(r => _cluster.App.ResourceNotifications.TryGetCurrentState(r.Name, out var e)
                ? e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value
                : null)
            .Select(v => v switch { int i => i, long l => (int)l, string s when int.TryParse(s, out var i) => i, _ => (int?)null })
            .OfType<int>()];
    }

    private int? TryProcessId(string name)
    {
        try { return Cluster.ProcessId(name); }
        catch (InvalidOperationException) { return null; }
    }

    /// <summary>
    /// PostgreSQL's cumulative transaction counters for the metadata database (commits, rollbacks: a serializable
    /// transaction that loses a race rolls back and is retried). Backends report them at most once a second, so a
    /// phase's difference is approximate at its edges. Empty when the database is not ours to read.
    /// </summary>
    public IReadOnlyDictionary<string, double> DatabaseCounters()
    {
        if (_metadataConnectionString is not { } connectionString || _counterFailures > 3)
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

    /// <summary>SIGKILL of the node's service process (a crash); returns once DCP has seen it end.</summary>
    public Task KillAsync(string name, CancellationToken ct) => Cluster.KillResourceAsync(name, ct);

    /// <summary>The node's Start command; returns once it is healthy.</summary>
    public Task RestartAsync(string name, CancellationToken ct) => Cluster.StartResourceAsync(name, ct);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _handler.Dispose();
        if (_cluster is not null) await _cluster.DisposeAsync();
        else
        {
            try { Directory.Delete(WorkDirectory, recursive: true); }
            catch (IOException) { }
        }
    }
}
