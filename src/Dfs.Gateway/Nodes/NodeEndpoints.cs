using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Nodes;

public static class NodeEndpoints
{
    public static RouteGroupBuilder MapNodeEndpoints(this RouteGroupBuilder api)
    {
        api.MapGet("/nodes", (NodeRegistry registry) => TypedResults.Ok(registry.Snapshot().Select(ToInfo).ToList()))
            .WithName("Nodes").WithTags("Cluster").WithSummary("Storage nodes with state, capacity and last heartbeat.");
        return api;
    }

    /// <summary>The internal API for storage nodes and the Replicator.</summary>
    public static RouteGroupBuilder MapInternalNodeEndpoints(this RouteGroupBuilder @internal)
    {
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
            return await registry.HeartbeatAsync(id, heartbeat.Usage, ct)
                ? Results.NoContent()
                : Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown node", detail: "Register first.");
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
        return @internal;
    }

    internal static NodeInfo ToInfo(NodeView n) => new(n.Id, n.Name, n.Url.ToString().TrimEnd('/'), n.State,
        n.Usage.CapacityBytes, n.Usage.FreeBytes, n.Usage.UsedBytes, n.Usage.ChunkCount, n.RegisteredAt, n.LastHeartbeatAt);
}
