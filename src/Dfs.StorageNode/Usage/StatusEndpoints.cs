using Dfs.Contracts.Internal;
using Dfs.StorageNode.Hosting;
using Dfs.StorageNode.Scrubbing;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Usage;

public static class StatusEndpoints
{
    public static IEndpointRouteBuilder MapStatusEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet("/status", GetStatus).WithTags("Status");
        return app;
    }

    private static Ok<StorageNodeStatus> GetStatus(NodeIdentity identity, UsageTracker usage, ScrubProgress scrub, IOptions<StorageNodeOptions> options) =>
        TypedResults.Ok(new StorageNodeStatus(identity.Id, options.Value.Name, usage.Snapshot(), scrub.Snapshot()));
}
