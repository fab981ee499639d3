using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Dfs.StorageNode.Scrubbing;

public static class ScrubbingExtensions
{
    /// <summary>Call after the storage startup service: hosted services start in order, and the scrubber needs the folders ready.</summary>
    public static WebApplicationBuilder AddChunkScrubbing(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ScrubOptions>()
            .BindConfiguration(ScrubOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ScrubProgress>();
        builder.Services.AddSingleton<ScrubMetrics>();
        builder.Services.AddSingleton<QuarantineOutbox>();
        builder.Services.AddHostedService<ChunkScrubber>();
        return builder;
    }
}
