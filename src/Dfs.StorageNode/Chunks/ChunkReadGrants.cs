using Dfs.Contracts.Integrity;
using Dfs.Contracts.Security;

namespace Dfs.StorageNode.Chunks;

/// <summary>
/// Reads of one chunk with a grant the gateway signed (<see cref="ChunkReadGrant"/>): a client such as `dfs get` reads
/// chunks straight from the nodes, without the cluster's secret. A grant that does not hold is 403; a request without
/// one goes on to the cluster signature check like any other.
/// </summary>
public static class ChunkReadGrants
{
    private const string GrantedItem = "dfs.chunk-read-granted";

    public static IApplicationBuilder UseChunkReadGrants(this IApplicationBuilder app)
    {
        var grants = app.ApplicationServices.GetRequiredService<ChunkReadGrant>();
        return app.Use(async (context, next) =>
        {
            var request = context.Request;
            if (!request.Query.ContainsKey(ChunkReadGrant.GrantParameter))
            {
                await next(context);
                return;
            }
            var segments = request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries) ?? [];
            var isChunkRead = (HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method))
                              && segments is ["chunks", var id] && ChunkIds.IsValid(id);
            var status = isChunkRead
                ? grants.Verify(segments[1], request.Query[ChunkReadGrant.ExpiresParameter], request.Query[ChunkReadGrant.GrantParameter], DateTimeOffset.UtcNow)
                : ChunkReadGrantStatus.Mismatch;
            if (status == ChunkReadGrantStatus.Valid)
            {
                context.Items[GrantedItem] = true;
                await next(context);
                return;
            }
            await TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: status switch
            {
                ChunkReadGrantStatus.Expired => "The read grant has expired: ask the gateway for the file's layout again.",
                ChunkReadGrantStatus.Malformed => "The read grant is malformed.",
                _ when !isChunkRead => "A read grant allows only GET or HEAD of one chunk.",
                _ => "The read grant is not valid for this chunk.",
            }).ExecuteAsync(context);
        });
    }

    /// <summary>Whether this request carried a valid grant (it then needs no cluster signature).</summary>
    public static bool IsGranted(HttpContext context) => context.Items.ContainsKey(GrantedItem);
}
