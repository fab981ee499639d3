using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Dfs.Gateway.Data;

public static class MetadataDatabaseExtensions
{
    public const string ConnectionName = "metadata";

    /// <summary>
    /// PostgreSQL for a Host=… connection string, SQLite for Data Source=… (the embedded profile).
    /// </summary>
    public static IHostApplicationBuilder AddMetadataDatabase(this IHostApplicationBuilder builder)
    {
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName)
            ?? throw new InvalidOperationException(
                $"ConnectionStrings:{ConnectionName} is not set: give a PostgreSQL (Host=…) or SQLite (Data Source=…) connection string.");

        builder.Services.AddDbContextPool<MetadataDbContext>(options => Configure(options, connectionString));
        builder.Services.AddHealthChecks().AddCheck<MetadataHealthCheck>("metadata");
        return builder;
    }

    public static void Configure(DbContextOptionsBuilder options, string connectionString)
    {
        if (IsSqlite(connectionString))
            options.UseSqlite(connectionString);
        else
            options.UseNpgsql(TunedForPostgres(connectionString));

        options.UseQueryTrackingBehavior(QueryTrackingBehavior.NoTracking);
        // The migrations are hand-written without a model snapshot, so EF cannot compare them with the model.
        options.ConfigureWarnings(w => w.Ignore(RelationalEventId.PendingModelChangesWarning));
    }

    /// <summary>
    /// Defaults for what the connection string leaves unsaid. No Reset On Close: the gateway keeps no session state
    /// (isolation is set per transaction), so a connection back in the pool need not cost the server a DISCARD ALL,
    /// which counted as a second transaction for every query. Max Auto Prepare: the hot lookups are prepared once per
    /// connection instead of parsed and planned on every call.
    /// </summary>
    public static string TunedForPostgres(string connectionString)
    {
        var builder = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        bool Given(params string[] keys) => keys.Any(given.ContainsKey);
        if (!Given("No Reset On Close", "NoResetOnClose")) builder.NoResetOnClose = true;
        if (!Given("Max Auto Prepare", "MaxAutoPrepare")) builder.MaxAutoPrepare = 64;
        return builder.ConnectionString;
    }

    public static bool IsSqlite(string connectionString) =>
        connectionString.TrimStart().StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase)
        || connectionString.TrimStart().StartsWith("Filename=", StringComparison.OrdinalIgnoreCase);

    /// <summary>Applies migrations before the gateway serves anything.</summary>
    public static async Task MigrateMetadataAsync(this IServiceProvider services, CancellationToken ct = default)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        if (db.Database.IsSqlite())
        {
            var source = new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(db.Database.GetConnectionString()).DataSource;
            var folder = Path.GetDirectoryName(Path.GetFullPath(source));
            if (!string.IsNullOrEmpty(folder)) Directory.CreateDirectory(folder);
        }
        await db.Database.MigrateAsync(ct);
        if (db.Database.IsSqlite())
        {
            // WAL lets readers run beside the one writer; NORMAL sync is durable at checkpoints in WAL mode.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", ct);
        }
    }
}

internal sealed class MetadataHealthCheck(MetadataDbContext db) : Microsoft.Extensions.Diagnostics.HealthChecks.IHealthCheck
{
    public async Task<Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult> CheckHealthAsync(
        Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckContext context, CancellationToken cancellationToken = default) =>
        await db.Database.CanConnectAsync(cancellationToken)
            ? Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Healthy()
            : Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Unhealthy("metadata database unreachable");
}
