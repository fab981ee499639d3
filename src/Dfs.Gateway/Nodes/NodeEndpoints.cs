using System.Globalization;
using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.Contracts.Messages;
using Dfs.Gateway.Data;
using Dfs.Gateway.Files;
using Dfs.Gateway.Http;
using Dfs.Gateway.Messaging;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Nodes;

public static class NodeEndpoints
{
    public const string NodeRemovedTitle = "Node removed";

    public static RouteGroupBuilder MapNodeEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/nodes", (NodeRegistry registry) => TypedResults.Ok(registry.Snapshot().Select(ToInfo).ToList()))
            .WithName("Nodes").WithTags("Cluster").WithSummary("Storage nodes with state, capacity, last heartbeat and whether they are draining.");

        api.MapPost("/nodes/{node}/drain", async (string node, NodeDrains drains, EventPublisher events, TimeProvider clock, CancellationToken ct) =>
                TypedResults.Json(await StartDrainAsync(drains, drains.Resolve(node), events, clock, ct), statusCode: StatusCodes.Status202Accepted))
            .WithName("DrainNode").WithTags("Cluster").RequireAuthorization(Auth.AuthExtensions.AdminPolicy)
            .WithSummary("Starts draining a node ({node} = id or name; idempotent): it takes no new chunks and the Replicator copies its chunks elsewhere.")
            .Produces<NodeDrainStatus>(StatusCodes.Status202Accepted).ProducesProblem(StatusCodes.Status404NotFound);

        api.MapGet("/nodes/{node}/drain", async (string node, NodeDrains drains, CancellationToken ct) =>
                TypedResults.Ok(await drains.StatusAsync(drains.Resolve(node), ct)))
            .WithName("DrainStatus").WithTags("Cluster")
            .WithSummary("A node's drain: chunks it holds, chunks not yet safe elsewhere, and drained (safe to stop and remove).")
            .Produces<NodeDrainStatus>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapDelete("/nodes/{node}/drain", async (string node, NodeDrains drains, CancellationToken ct) =>
                TypedResults.Ok(await drains.CancelAsync(drains.Resolve(node), ct)))
            .WithName("CancelDrain").WithTags("Cluster").RequireAuthorization(Auth.AuthExtensions.AdminPolicy)
            .WithSummary("Stops draining a node: it takes new chunks again and its copies count again.")
            .Produces<NodeDrainStatus>().ProducesProblem(StatusCodes.Status404NotFound);

        api.MapDelete("/nodes/{node}", async (string node, string? force, NodeDrains drains, CancellationToken ct) =>
            {
                var forced = QueryValues.ParseBool(force, ApiRoutes.ForceQuery);
                await drains.RemoveAsync(drains.Resolve(node), forced, ct);
                return TypedResults.NoContent();
            })
            .WithName("RemoveNode").WithTags("Cluster").RequireAuthorization(Auth.AuthExtensions.AdminPolicy)
            .WithSummary("Removes a node and its replica records. Refused (409) unless the node is drained; force=true removes it anyway.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    /// <summary>The internal API for storage nodes and the Replicator.</summary>
    public static RouteGroupBuilder MapInternalNodeEndpoints(this RouteGroupBuilder @internal)
    {
        // What /api/nodes answers, for the Replicator: it is a cluster member, not a user.
        @internal.MapGet("/nodes", (NodeRegistry registry) => TypedResults.Ok(registry.Snapshot().Select(ToInfo).ToList()));

        @internal.MapPost("/nodes/register", async ([FromBody] NodeRegistration? registration, NodeRegistry registry, IOptions<ClusterOptions> cluster, CancellationToken ct) =>
        {
            if (registration is null || registration.NodeId == Guid.Empty || string.IsNullOrWhiteSpace(registration.Name)
                || !Uri.TryCreate(registration.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                throw DfsProblemException.BadRequest("Invalid registration", "nodeId, name and an absolute http(s) url are required.");
            var record = await registry.RegisterAsync(registration, ct);
            return TypedResults.Ok(new NodeRegistrationAck(record.Id, cluster.Value.HeartbeatIntervalMs));
        });

        @internal.MapPost("/nodes/{id:guid}/heartbeat", async (Guid id, [FromBody] NodeHeartbeat? heartbeat, NodeRegistry registry, CancellationToken ct) =>
        {
            if (heartbeat?.Usage is null) throw DfsProblemException.BadRequest("Invalid heartbeat", "usage is required.");
            return await registry.HeartbeatAsync(id, heartbeat.Usage, ct) switch
            {
                HeartbeatOutcome.Accepted => Results.NoContent(),
                // 410, not 404: a 404 makes the node register again, which would undo the removal.
                HeartbeatOutcome.Removed => Results.Problem(statusCode: StatusCodes.Status410Gone, title: NodeRemovedTitle,
                    detail: $"Node {id} was removed from the cluster at "
                            + $"{registry.RemovedAt(id)?.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) ?? "an earlier time"}; "
                            + "its process should stop. Starting it again registers it as a new, empty node."),
                _ => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown node", detail: "Register first."),
            };
        });

        @internal.MapPost("/replicas", async ([FromBody] ReplicaReport? report, NodeRegistry registry, MetadataDbContext db, TimeProvider clock, CancellationToken ct) =>
        {
            if (report is null || !ChunkIds.IsValid(report.ChunkId))
                throw DfsProblemException.BadRequest("Invalid replica report", "chunkId must be 64 lowercase hex characters.");
            if (registry.Find(report.NodeId) is null)
                throw DfsProblemException.BadRequest("Invalid replica report", $"Node {report.NodeId} is not registered.");
            if (!await db.Chunks.AnyAsync(c => c.Id == report.ChunkId, ct))
                throw DfsProblemException.NotFound(report.ChunkId);
            if (!await db.Replicas.AnyAsync(r => r.ChunkId == report.ChunkId && r.NodeId == report.NodeId, ct))
            {
                db.Replicas.Add(new ReplicaRecord { ChunkId = report.ChunkId, NodeId = report.NodeId, CreatedAt = clock.GetUtcNow().UtcDateTime });
                try { await db.SaveChangesAsync(ct); }
                catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e)) { } // reported twice at once: already recorded
            }
            return TypedResults.NoContent();
        });

        // The scrubber's report: 204 once the copy no longer counts, so the node can forget its quarantined file.
        @internal.MapPost("/replicas/corrupt", async ([FromBody] CorruptReplicaReport? report, NodeRegistry registry, CorruptCopyReporter corruptCopies, CancellationToken ct) =>
        {
            if (report is null || !ChunkIds.IsValid(report.ChunkId))
                throw DfsProblemException.BadRequest("Invalid corrupt replica report", "chunkId must be 64 lowercase hex characters.");
            if (registry.Find(report.NodeId) is not { } node)
                throw DfsProblemException.BadRequest("Invalid corrupt replica report", $"Node {report.NodeId} is not registered.");
            // A chunk the metadata does not know (garbage, or collected meanwhile) has no record to drop: still acknowledged.
            await corruptCopies.ReportScrubbedAsync(report.ChunkId, node, ct);
            return TypedResults.NoContent();
        });
        return @internal;
    }

    /// <summary>Starts draining <paramref name="node"/> and asks the Replicator for a pass (the API's and the console's drain).</summary>
    internal static async Task<NodeDrainStatus> StartDrainAsync(NodeDrains drains, NodeView node, EventPublisher events, TimeProvider clock, CancellationToken ct)
    {
        var status = await drains.StartAsync(node, ct);
        // Every request asks for a pass, so a repeated drain also nudges a stalled one.
        events.Enqueue(new NodeDraining(node.Id, node.Name, clock.GetUtcNow().UtcDateTime));
        return status;
    }

    internal static NodeInfo ToInfo(NodeView n) => new(n.Id, n.Name, n.Url.ToString().TrimEnd('/'), n.State,
        n.Usage.CapacityBytes, n.Usage.FreeBytes, n.Usage.UsedBytes, n.Usage.ChunkCount, n.RegisteredAt, n.LastHeartbeatAt, n.Draining);
}
