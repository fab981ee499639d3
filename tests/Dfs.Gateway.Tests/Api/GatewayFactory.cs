using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// The real gateway in-process over a fresh SQLite database (the embedded profile's store), or a fresh
/// PostgreSQL database (<see cref="CreateAsync"/>). Clients from CreateClient() are the first admin (Basic).
/// </summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "admin-password-for-tests";

    /// <summary>Dfs:Cluster:Secret: what nodes and the Replicator sign /internal requests with.</summary>
    public const string ClusterSecret = "gateway-tests-cluster-secret-0123456789";

    private readonly DirectoryInfo? _folder;
    private readonly string _connectionString;
    private readonly Func<ValueTask>? _dropDatabase;
    private readonly Dictionary<string, string?> _settings = new(StringComparer.Ordinal);
    private readonly List<Action<IServiceCollection>> _services = [];

    /// <summary>Real Kestrel on a free loopback port: raw request targets reach the gateway as a client sends them.</summary>
    public GatewayFactory() : this(connectionString: null, dropDatabase: null)
    {
    }

    /// <param name="connectionString">The metadata database; null = a fresh SQLite file deleted with the factory.</param>
    private GatewayFactory(string? connectionString, Func<ValueTask>? dropDatabase)
    {
        UseKestrel(0);
        if (connectionString is null)
        {
            _folder = Directory.CreateTempSubdirectory("dfs-gw-");
            connectionString = $"Data Source={Path.Combine(_folder.FullName, "dfs.db")}";
        }
        _connectionString = connectionString;
        _dropDatabase = dropDatabase;
        // The slow hash is the point in production; tests only need the lowest count the options accept.
        _settings["Dfs:Gateway:Auth:Pbkdf2Iterations"] = "10000";
        _settings["Dfs:Gateway:Auth:AdminPassword"] = AdminPassword;
        _settings["Dfs:Cluster:Secret"] = ClusterSecret;
    }

    /// <summary>A gateway over a fresh database of <paramref name="provider"/> (<see cref="MetadataDatabases"/>).</summary>
    public static async Task<GatewayFactory> CreateAsync(string provider)
    {
        if (provider == MetadataDatabases.Sqlite) return new GatewayFactory();
        var server = await PostgresServer.GetAsync();
        var name = "dfs_gw_" + Guid.NewGuid().ToString("N")[..12];
        var database = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
        return new GatewayFactory(database, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(server.ConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        });
    }

    /// <summary>A second gateway over this one's database (a restart); it does not delete the database.</summary>
    public GatewayFactory Restarted() => new(_connectionString, dropDatabase: null);

    public string ConnectionString => _connectionString;

    /// <summary>Log lines of Warning and above, as "Category: message".</summary>
    public ConcurrentQueue<string> Warnings { get; } = new();

    /// <summary>Sets a configuration value before the server starts; null unsets one of the defaults (the admin password, say).</summary>
    public GatewayFactory With(string key, string? value)
    {
        if (value is null) _settings.Remove(key);
        else _settings[key] = value;
        return this;
    }

    /// <summary>Replaces services after the gateway registered its own (a manual clock, say).</summary>
    public GatewayFactory WithServices(Action<IServiceCollection> configure)
    {
        _services.Add(configure);
        return this;
    }

    /// <summary>A client that signs its requests with the cluster's secret, as nodes and the Replicator do (for /internal).</summary>
    public HttpClient CreateClusterClient() => CreateDefaultClient(new ClusterSigningHandler(ClusterSecret));

    /// <summary>A client without credentials.</summary>
    public HttpClient CreateAnonymousClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = null;
        return client;
    }

    public HttpClient CreateClient(AuthenticationHeaderValue? authorization)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = authorization;
        return client;
    }

    protected override void ConfigureClient(HttpClient client)
    {
        base.ConfigureClient(client);
        client.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic(AdminUser, AdminPassword);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:metadata", _connectionString);
        builder.UseSetting("Dfs:Gateway:ChunkSizeBytes", "65536");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.AddProvider(new QueueLoggerProvider(Warnings)));
        builder.ConfigureTestServices(services =>
        {
            foreach (var configure in _services) configure(services);
        });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_dropDatabase is not null) await _dropDatabase();
        SqliteConnection.ClearAllPools();
        _folder?.Delete(recursive: true);
    }

    private sealed class QueueLoggerProvider(ConcurrentQueue<string> lines) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new QueueLogger(categoryName, lines);

        public void Dispose()
        {
        }
    }

    private sealed class QueueLogger(string category, ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) lines.Enqueue($"{category}: {formatter(state, exception)}");
        }
    }
}
