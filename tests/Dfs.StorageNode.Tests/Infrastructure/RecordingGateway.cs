using System.Collections.Concurrent;
using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Dfs.Contracts.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Dfs.StorageNode.Tests.Infrastructure;

/// <summary>
/// Only the wire side of the gateway's /internal/nodes endpoints, on a real loopback port, recording what the
/// node sends; switches let a test make it refuse, fail or forget, to check how the node reacts.
/// </summary>
public sealed class RecordingGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<Guid, bool> _known = new();
    private readonly ConcurrentDictionary<Guid, bool> _removed = new();

    private RecordingGateway(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;
    public ConcurrentQueue<NodeRegistration> Registrations { get; } = new();
    public ConcurrentQueue<(Guid NodeId, NodeHeartbeat Heartbeat)> Heartbeats { get; } = new();
    public int RegistrationAttempts => _registrationAttempts;
    public int HeartbeatAttempts => _heartbeatAttempts;

    /// <summary>Requests refused with 401 because their cluster signature was missing or wrong (as the real gateway does).</summary>
    public int UnsignedAttempts => _unsignedAttempts;

    /// <summary>Answer registrations with 503.</summary>
    public volatile bool RefuseRegistrations;

    /// <summary>Answer heartbeats with 500.</summary>
    public volatile bool FailHeartbeats;

    /// <summary>Scrubbers' reports of corrupt copies that were acknowledged (204).</summary>
    public ConcurrentQueue<CorruptReplicaReport> CorruptReports { get; } = new();

    /// <summary>Copies reported present (POST /internal/replicas).</summary>
    public ConcurrentQueue<ReplicaReport> ReplicaReports { get; } = new();

    public int CorruptReportAttempts => _corruptReportAttempts;

    /// <summary>Answer corrupt-copy reports with 503 (the node must keep and resend them).</summary>
    public volatile bool FailCorruptReports;

    /// <summary>The interval the ack asks for (0: none).</summary>
    public int AckHeartbeatIntervalMs { get; set; }

    private int _registrationAttempts;
    private int _heartbeatAttempts;
    private int _unsignedAttempts;
    private int _corruptReportAttempts;

    /// <param name="secret">The secret it checks signatures with; the test nodes' one unless given.</param>
    public static async Task<RecordingGateway> StartAsync(CancellationToken ct, int port = 0, string secret = NodeHost.Secret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var gateway = new RecordingGateway(app);
        var signature = new ClusterSignature(secret);
        app.Use(async (context, next) =>
        {
            var target = context.Request.Path + context.Request.QueryString;
            if (signature.Verify(context.Request.Headers[ClusterSignature.HeaderName], context.Request.Method, target, DateTimeOffset.UtcNow)
                != ClusterSignatureStatus.Valid)
            {
                Interlocked.Increment(ref gateway._unsignedAttempts);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            await next(context);
        });

        app.MapPost($"{ApiRoutes.InternalNodes}/register", (NodeRegistration registration) =>
        {
            Interlocked.Increment(ref gateway._registrationAttempts);
            if (gateway.RefuseRegistrations) return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable);
            gateway.Registrations.Enqueue(registration);
            gateway._known[registration.NodeId] = true;
            gateway._removed.TryRemove(registration.NodeId, out _);
            return Results.Ok(new NodeRegistrationAck(registration.NodeId, gateway.AckHeartbeatIntervalMs));
        });
        app.MapPost($"{ApiRoutes.InternalNodes}/{{id:guid}}/heartbeat", (Guid id, NodeHeartbeat heartbeat) =>
        {
            Interlocked.Increment(ref gateway._heartbeatAttempts);
            if (gateway.FailHeartbeats) return Results.Problem(statusCode: StatusCodes.Status500InternalServerError);
            if (gateway._removed.ContainsKey(id))
                return Results.Problem(statusCode: StatusCodes.Status410Gone, title: "Node removed", detail: RemovedDetail(id));
            if (!gateway._known.ContainsKey(id)) return Results.Problem(statusCode: StatusCodes.Status404NotFound);
            gateway.Heartbeats.Enqueue((id, heartbeat));
            return Results.Ok();
        });

        app.MapPost(ApiRoutes.InternalCorruptReplicas, (CorruptReplicaReport report) =>
        {
            Interlocked.Increment(ref gateway._corruptReportAttempts);
            if (gateway.FailCorruptReports) return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable);
            gateway.CorruptReports.Enqueue(report);
            return Results.NoContent();
        });
        app.MapPost(ApiRoutes.InternalReplicas, (ReplicaReport report) =>
        {
            gateway.ReplicaReports.Enqueue(report);
            return Results.NoContent();
        });

        await app.StartAsync(ct);
        gateway.Url = new Uri(app.Urls.First());
        return gateway;
    }

    /// <summary>As if the gateway restarted on a new database.</summary>
    public void Forget(Guid nodeId) => _known.TryRemove(nodeId, out _);

    /// <summary>As if an operator removed the node: its heartbeats are answered 410 Gone until it registers again.</summary>
    public void Remove(Guid nodeId)
    {
        _removed[nodeId] = true;
        _known.TryRemove(nodeId, out _);
    }

    /// <summary>The problem detail of the 410 for <paramref name="nodeId"/>, which the node should log.</summary>
    public static string RemovedDetail(Guid nodeId) => $"Node {nodeId} was removed from the cluster by the test.";

    public int HeartbeatsFrom(Guid nodeId) => Heartbeats.Count(h => h.NodeId == nodeId);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
