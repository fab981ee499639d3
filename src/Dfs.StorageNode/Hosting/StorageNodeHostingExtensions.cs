using Dfs.Contracts.Clients;
using Dfs.StorageNode.Chunks;
using Dfs.StorageNode.Diagnostics;
using Dfs.StorageNode.Registration;
using Dfs.StorageNode.Scrubbing;
using Dfs.StorageNode.Usage;
using Dfs.ServiceDefaults;

namespace Dfs.StorageNode.Hosting;

public static class StorageNodeHostingExtensions
{
    private const string PipelineHttpClient = "pipeline";

    public static WebApplicationBuilder AddStorageNode(this WebApplicationBuilder builder)
    {
        // Nodes hold everyone's chunks: reachable only by the cluster (signed requests), on loopback unless told otherwise.
        builder.AddClusterTrust();
        builder.WebHost.UseLoopbackByDefault(port: 0);
        builder.Services.AddOptions<StorageNodeOptions>()
            .BindConfiguration(StorageNodeOptions.SectionName)
            .ValidateDataAnnotations()
            .Validate(o => StorageNodeOptions.IsValidAdvertisedUrl(o.AdvertisedUrl),
                $"{StorageNodeOptions.SectionName}:{nameof(StorageNodeOptions.AdvertisedUrl)} must be an absolute http(s) URL.")
            .ValidateOnStart();

        builder.Services.AddSingleton<NodeDataDirectory>();
        builder.Services.AddSingleton<NodeIdentity>();
        builder.Services.AddSingleton<StorageNodeMetrics>();
        builder.Services.AddSingleton<UsageTracker>();
        builder.Services.AddSingleton<ChunkStore>();
        builder.Services.AddSingleton<ChunkPipeline>();
        // Pipeline replication forwards chunks to the next node: no resilience handler (a retry would resend a spent
        // body) and no client-wide timeout (each forward has its own, from the chain's hop time).
        builder.Services.AddHttpClient(PipelineHttpClient, c => c.Timeout = Timeout.InfiniteTimeSpan);
        builder.Services.AddSingleton<IStorageNodeClient>(sp =>
            new StorageNodeClient(() => sp.GetRequiredService<IHttpClientFactory>().CreateClient(PipelineHttpClient)));
        // Registered before the registration service: hosted services start in order, so the folder is ready first.
        builder.Services.AddHostedService<StorageStartup>();
        builder.AddGatewayRegistration();
        builder.AddChunkScrubbing();
        return builder;
    }

    public static WebApplication MapStorageNode(this WebApplication app)
    {
        // A read with the gateway's signed grant needs no cluster signature: clients read chunks straight from the nodes.
        app.UseChunkReadGrants();
        app.UseClusterSignatures(context => !IsProbe(context.Request.Path) && !ChunkReadGrants.IsGranted(context));
        app.MapChunkEndpoints();
        app.MapStatusEndpoints();
        return app;
    }

    /// <summary>The health endpoints stay open: orchestrators probe them without the secret, and they reveal no data.</summary>
    private static bool IsProbe(PathString path) => path.StartsWithSegments("/health") || path.StartsWithSegments("/alive");
}
