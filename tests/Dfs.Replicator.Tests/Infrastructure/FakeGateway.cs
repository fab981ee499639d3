using System.Collections.Concurrent;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.Contracts.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dfs.Replicator.Tests.Infrastructure;

/// <summary>
/// A protocol fixture for the gateway's internal API (the real gateway is tested end to end elsewhere): it
/// serves /internal/nodes|replicas|replication/*, only to requests signed with the test secret, from a table the test controls, and records what
/// the Replicator asked and reported.
/// </summary>
public sealed class FakeGateway : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, NodeInfo> _nodes = [];
    private readonly Dictionary<string, ChunkRow> _chunks = [];
    private readonly List<ReplicaReport> _reports = [];
    private readonly ConcurrentDictionary<string, int> _stateRequests = new();
    private int _workRequests;
    private int _unsignedRequests;
    private int _failWork;

    private sealed record ChunkRow(long Size, int Wanted, List<Guid> Holders);

    private FakeGateway(WebApplication app) => _app = app;

    public Uri Url { get; private set; } = null!;

    /// <summary>When false (the default) the work list is empty, so only the events drive copies.</summary>
    public bool ServeWork { get; set; }

    public int WorkRequests => Volatile.Read(ref _workRequests);

    /// <summary>Requests refused with 401 for a missing or wrong cluster signature, as the real gateway's /internal does.</summary>
    public int UnsignedRequests => Volatile.Read(ref _unsignedRequests);

    public IReadOnlyList<ReplicaReport> Reports
    {
        get { lock (_lock) return _reports.ToList(); }
    }

    public int StateRequests(string chunkId) => _stateRequests.GetValueOrDefault(chunkId);

    /// <summary>The next <paramref name="count"/> work requests answer 503.</summary>
    public void FailWorkRequests(int count) => Volatile.Write(ref _failWork, count);

    public void SetNodes(params NodeInfo[] nodes)
    {
        lock (_lock)
        {
            _nodes.Clear();
            foreach (var node in nodes) _nodes[node.Id] = node;
        }
    }

    public void AddChunk(TestChunk chunk, int wanted, params StorageNode[] holders)
    {
        lock (_lock) _chunks[chunk.Id] = new ChunkRow(chunk.Size, wanted, holders.Select(h => h.Id).ToList());
    }

    public IReadOnlyList<Guid> Holders(string chunkId)
    {
        lock (_lock) return _chunks[chunkId].Holders.ToList();
    }

    public ChunkWork State(TestChunk chunk)
    {
        lock (_lock) return ToWork(chunk.Id, _chunks[chunk.Id]);
    }

    public static async Task<FakeGateway> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var gateway = new FakeGateway(app);
        gateway.Map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        gateway.Url = new Uri(address + "/");
        return gateway;
    }

    private void Map(WebApplication app)
    {
        var signature = new ClusterSignature(ServiceProcess.ClusterSecret);
        app.Use(async (context, next) =>
        {
            var target = context.Request.Path + context.Request.QueryString;
            if (signature.Verify(context.Request.Headers[ClusterSignature.HeaderName], context.Request.Method, target, DateTimeOffset.UtcNow)
                != ClusterSignatureStatus.Valid)
            {
                Interlocked.Increment(ref _unsignedRequests);
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            await next(context);
        });

        app.MapGet(ApiRoutes.InternalNodes, () =>
        {
            lock (_lock) return Results.Json(_nodes.Values.ToList(), DfsJson.Options);
        });

        app.MapPost(ApiRoutes.InternalReplicas, async (HttpRequest request) =>
        {
            var report = (await request.ReadFromJsonAsync<ReplicaReport>(DfsJson.Options))!;
            lock (_lock)
            {
                _reports.Add(report);
                if (!_chunks.TryGetValue(report.ChunkId, out var row)) return Results.NotFound();
                if (!row.Holders.Contains(report.NodeId)) row.Holders.Add(report.NodeId);
            }
            return Results.NoContent();
        });

        app.MapPost(ApiRoutes.InternalReplicationState, async (HttpRequest request) =>
        {
            var ids = (await request.ReadFromJsonAsync<List<string>>(DfsJson.Options))!;
            foreach (var id in ids) _stateRequests.AddOrUpdate(id, 1, (_, n) => n + 1);
            lock (_lock)
            {
                var known = ids.Where(_chunks.ContainsKey).Select(id => ToWork(id, _chunks[id])).ToList();
                return Results.Json(new ReplicationWork(known), DfsJson.Options);
            }
        });

        app.MapGet(ApiRoutes.InternalReplicationWork, (int limit) =>
        {
            Interlocked.Increment(ref _workRequests);
            if (Interlocked.Decrement(ref _failWork) >= 0)
                return Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not yet");
            Interlocked.Exchange(ref _failWork, 0);
            lock (_lock)
            {
                if (!ServeWork) return Results.Json(new ReplicationWork([]), DfsJson.Options);
                var work = _chunks.Select(c => ToWork(c.Key, c.Value))
                    .Where(w => w.Holders.Count < w.Wanted)
                    .OrderBy(w => w.Holders.Count)
                    .Take(limit)
                    .ToList();
                return Results.Json(new ReplicationWork(work), DfsJson.Options);
            }
        });
    }

    /// <summary>Holders that are not dead, as the gateway reports them: those on draining nodes apart, as sources only.</summary>
    private ChunkWork ToWork(string id, ChunkRow row)
    {
        var readable = row.Holders.Where(h => !_nodes.TryGetValue(h, out var n) || n.State != NodeStates.Dead).ToList();
        var draining = readable.Where(h => _nodes.TryGetValue(h, out var n) && n.Draining).ToList();
        return new(id, row.Size, row.Wanted, readable.Except(draining).ToList(), draining.Count > 0 ? draining : null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
