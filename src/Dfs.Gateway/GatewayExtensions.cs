using Dfs.Contracts.Clients;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Cluster;
using Dfs.Gateway.Console;
using Dfs.Gateway.Data;
using Dfs.Gateway.Files;
using Dfs.Gateway.Http;
using Dfs.Gateway.Messaging;
using Dfs.Gateway.Namespace;
using Dfs.Gateway.Replication;
using Dfs.Gateway.Nodes;
using Dfs.Gateway.RateLimiting;
using Dfs.Gateway.S3;
using Dfs.Gateway.Shared;
using Dfs.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway;

public static class GatewayExtensions
{
    private const string StorageNodesHttpClient = "Dfs.Gateway.StorageNodes";

    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        // Signs the calls to nodes (and, embedded, to our own /internal); checks /internal; loopback unless configured.
        builder.AddClusterTrust();
        builder.WebHost.UseLoopbackByDefault(port: 5000);
        builder.AddGatewaySharedState();
        builder.AddGatewayRateLimiting();

        builder.AddMetadataDatabase();
        builder.AddGatewayAuth();
        builder.AddConsole();
        builder.AddGatewayMessaging();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<NodeRegistry>();
        builder.Services.AddSingleton<NodeSpeeds>();
        builder.Services.AddSingleton<Placement>();
        builder.Services.AddSingleton<ChunkBuffers>();
        builder.Services.AddSingleton<CorruptCopyReporter>();
        builder.Services.AddSingleton<ReplicaVerifier>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReplicaVerifier>());
        builder.Services.AddHostedService<NodeLivenessMonitor>();
        builder.Services.AddHostedService<GarbageCollector>();
        builder.Services.AddScoped<ReplicationQueries>();
        builder.Services.AddScoped<NodeDrains>();
        builder.Services.AddScoped<NamespaceService>();
        builder.Services.AddScoped<FileCommitter>();
        builder.Services.AddSingleton<ChunkStorer>();
        builder.Services.AddScoped<UploadService>();
        builder.Services.AddScoped<DownloadService>();

        // The data path to the nodes: Refit clients per node, no resilience handler (a retry would resend a spent body;
        // a failed store moves on to another node instead), and no client-wide timeout: each transfer has its own.
        builder.Services.AddHttpClient(StorageNodesHttpClient, c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton<IStorageNodeClient>(sp =>
            new StorageNodeClient(() => sp.GetRequiredService<IHttpClientFactory>().CreateClient(StorageNodesHttpClient)));

        builder.AddS3Api();
        builder.Services.AddDfsProblems();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<Auth.SecuritySchemesTransformer>());
        return builder;
    }

    public static async Task InitializeGatewayAsync(this WebApplication app)
    {
        await app.Services.MigrateMetadataAsync(app.Lifetime.ApplicationStopping);
        await app.Services.EnsureFirstAdminAsync(app.Lifetime.ApplicationStopping);
        await app.Services.GetRequiredService<NodeRegistry>().LoadAsync(app.Lifetime.ApplicationStopping);
    }

    public static WebApplication MapGateway(this WebApplication app)
    {
        // First: requests on the S3 port are S3's whatever their path, with their own authentication and errors.
        app.UseS3Api();
        app.UseRouting();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseDotSegmentRefusal();
        app.UseClusterSignatures(context => context.Request.Path.StartsWithSegments("/internal"));
        app.UseConsoleSecurityHeaders();
        // Who is calling first, so the rate limiter's bucket is per user name when there is one; the limiter
        // before authorization, so wrong passwords are throttled too instead of answered 401 at full speed.
        app.UseAuthentication();
        app.UseGatewayRateLimiting();
        app.UseAuthorization();

        app.MapOpenApi();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/openapi/v1.json", "Dfs gateway v1");
            o.RoutePrefix = "swagger";
        });

        // Every public route needs a user (401 otherwise); /health, /alive, /openapi and /internal do not.
        app.MapGroup("/api").RequireAuthorization()
            .MapAuthApi()
            .MapFileEndpoints()
            .MapNamespaceEndpoints()
            .MapNodeEndpoints()
            .MapClusterEndpoints()
            .MapGatewayInstanceEndpoints()
            .MapReplicationEndpoints();

        // The web console (/console): the product UI, on the same users, tokens and access rules as the API.
        app.MapConsole();

        app.MapS3Documentation();

        app.MapGroup("/internal").WithTags("Internal").ExcludeFromDescription()
            .MapInternalNodeEndpoints()
            .MapInternalReplicationEndpoints();

        app.MapGet("/", (IOptions<GatewayOptions> options) => TypedResults.Ok(new
        {
            service = "dfs-gateway",
            api = "/api",
            openapi = "/openapi/v1.json",
            swagger = "/swagger",
            console = ConsoleRoutes.Prefix,
            chunkSizeBytes = options.Value.ChunkSizeBytes,
            replicationFactor = options.Value.ReplicationFactor,
        })).ExcludeFromDescription().RequireAuthorization();
        return app;
    }
}
