using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Files;
using StackExchange.Redis;

namespace Dfs.Gateway.Shared;

public static class SharedStateExtensions
{
    public const string CacheConnectionName = "cache";

    /// <summary>
    /// What the gateways share: with ConnectionStrings:cache, Redis through Aspire's client integration (no health check: Redis
    /// down makes the gateway slower, not unhealthy); without, this process alone. Chunk leases live in PostgreSQL when the
    /// metadata does (any number of gateways), in this process with SQLite (one gateway).
    /// </summary>
    public static WebApplicationBuilder AddGatewaySharedState(this WebApplicationBuilder builder)
    {
        if (!string.IsNullOrWhiteSpace(builder.Configuration.GetConnectionString(CacheConnectionName)))
        {
            builder.AddRedisClient(CacheConnectionName, settings => settings.DisableHealthChecks = true, options =>
            {
                // Never wait for Redis: a command it cannot take now fails at once, and the caller goes to the metadata.
                options.AbortOnConnectFail = false;
                options.BacklogPolicy = BacklogPolicy.FailFast;
                options.ConnectTimeout = 2000;
                options.AsyncTimeout = 1000;
                options.SyncTimeout = 1000;
                options.ReconnectRetryPolicy = new LinearRetry(500);
            });
            builder.Services.AddSingleton<ISharedState, RedisSharedState>();
        }
        else
        {
            builder.Services.AddSingleton<ISharedState, InProcessSharedState>();
        }

        builder.Services.AddOptions<ReadCacheOptions>().BindConfiguration(ReadCacheOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ReadCache>();

        var metadata = builder.Configuration.GetConnectionString(MetadataDatabaseExtensions.ConnectionName) ?? "";
        if (MetadataDatabaseExtensions.IsSqlite(metadata)) builder.Services.AddSingleton<IChunkLeases, InProcessChunkLeases>();
        else builder.Services.AddSingleton<IChunkLeases>(_ => new PostgresChunkLeases(metadata));
        return builder;
    }

    /// <summary>GET /api/gateway: which gateway answered, and how its caches and its link to the shared state fare.</summary>
    public static RouteGroupBuilder MapGatewayInstanceEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/gateway", async (ISharedState shared, GatewayMetrics metrics) =>
            {
                var totals = metrics.CacheTotals;
                var reachable = await shared.ReadEpochAsync(SharedEpoch.Credentials) is not null;
                return TypedResults.Ok(new GatewayInstanceInfo(Environment.MachineName, Environment.ProcessId,
                    shared.IsShared ? "redis" : "in-process", reachable, totals.CredentialHits, totals.CredentialMisses,
                    totals.ChunkHits, totals.ChunkMisses, totals.SharedStateUnreachable));
            })
            .WithName("Gateway").WithTags("Cluster").WithSummary("This gateway process: its shared-state link and cache counters.");
        return api;
    }
}
