using Dfs.StorageNode.Chunks;
using Dfs.StorageNode.Diagnostics;
using Dfs.StorageNode.Registration;
using Dfs.StorageNode.Usage;

namespace Dfs.StorageNode.Hosting;

public static class StorageNodeHostingExtensions
{
    public static WebApplicationBuilder AddStorageNode(this WebApplicationBuilder builder)
    {
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
        // Registered before the registration service: hosted services start in order, so the folder is ready first.
        builder.Services.AddHostedService<StorageStartup>();
        builder.AddGatewayRegistration();
        return builder;
    }

    public static WebApplication MapStorageNode(this WebApplication app)
    {
        app.MapChunkEndpoints();
        app.MapStatusEndpoints();
        return app;
    }
}
