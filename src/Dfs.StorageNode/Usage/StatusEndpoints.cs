using Dfs.Contracts.Internal;
using Dfs.StorageNode.Hosting;
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

    private static Ok<StorageNodeStatus> GetStatus(NodeIdentity identity, UsageTracker usage, IOptions<StorageNodeOptions> options) =>
        TypedResults.Ok(new StorageNodeStatus(identity.Id, options.Value.Name, usage.Snapshot()));
}
