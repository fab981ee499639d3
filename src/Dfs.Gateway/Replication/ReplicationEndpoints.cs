using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Gateway.Http;
using Dfs.Gateway.Messaging;
using Dfs.Gateway.Nodes;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Replication;

public static class ReplicationEndpoints
{
    public static RouteGroupBuilder MapReplicationEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/cluster/replication", async (ReplicationQueries queries, NodeRegistry registry, ErrorQueueInspector errorQueues,
                IOptions<GatewayOptions> options, CancellationToken ct) =>
            {
                var counts = await queries.CountAsync(ct);
                var (queues, error) = await errorQueues.DepthsAsync(ct);
                return TypedResults.Ok(new ReplicationStatus(counts.UnderReplicated, counts.Repairable, counts.Unreadable, registry.Snapshot().Count(n => n.IsLive),
                    options.Value.ReplicationFactor, queues, error));
            })
            .WithName("ReplicationStatus").WithTags("Cluster")
            .WithSummary("Chunks below their replication factor, those the Replicator can repair now (its backlog), chunks with no readable copy, and the Replicator's error queues.");
        return api;
    }

    /// <summary>The Replicator's side of the internal API.</summary>
    public static RouteGroupBuilder MapInternalReplicationEndpoints(this RouteGroupBuilder @internal)
    {
        @internal.MapGet("/replication/work", async (string? limit, ReplicationQueries queries, CancellationToken ct) =>
        {
            var n = 500;
            if (limit is not null && (!int.TryParse(limit, out n) || n is < 1 or > 10_000))
                throw DfsProblemException.BadRequest("Invalid limit", "limit must be a whole number from 1 to 10000.");
            return TypedResults.Ok(new Contracts.Internal.ReplicationWork(await queries.UnderReplicatedAsync(n, ct)));
        });

        @internal.MapPost("/replication/state", async ([FromBody] string[]? chunkIds, ReplicationQueries queries, CancellationToken ct) =>
        {
            if (chunkIds is null || chunkIds.Length > 10_000 || chunkIds.Any(id => !ChunkIds.IsValid(id)))
                throw DfsProblemException.BadRequest("Invalid chunk ids", "The body must be a JSON array of at most 10000 chunk ids (64 lowercase hex characters).");
            return TypedResults.Ok(new Contracts.Internal.ReplicationWork(await queries.StateAsync(chunkIds, ct)));
        });
        return @internal;
    }
}
