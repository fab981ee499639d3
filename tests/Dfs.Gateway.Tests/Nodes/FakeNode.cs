using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Tests.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dfs.Gateway.Tests.Nodes;

/// <summary>How a scripted node answers PUT /chunks/{id}.</summary>
public enum FakeBehaviour
{
    /// <summary>Keeps the bytes (checked against the id) and answers 201, as a real node does.</summary>
    Store,
    /// <summary>500 Internal Server Error.</summary>
    ServerError,
    /// <summary>507 Insufficient Storage: the node is full.</summary>
    Full,
    /// <summary>422: the node says the bytes do not hash to the id.</summary>
    IntegrityRejected,
    /// <summary>400: the node says the request itself is wrong.</summary>
    BadRequest,
    /// <summary>Never answers: holds the request until the gateway gives up.</summary>
    Hang,
}

/// <summary>
/// A storage node stand-in on a loopback port (real Kestrel, real HTTP), for fault injection: it answers chunk
/// PUTs as scripted, counts them, serves its inventory so the gateway verifies it like a real node, and on request
/// serves back and deletes what it stored.
/// </summary>
public sealed class FakeNode : IAsyncDisposable
{
    private readonly WebApplication? _app;
    private int _attempts;
    private int _reads;
    private int _hangingReads;

    private FakeNode(string name, Uri url, FakeBehaviour behaviour, WebApplication? app)
    {
        Name = name;
        Url = url;
        Behaviour = behaviour;
        _app = app;
    }

    public Guid Id { get; } = Guid.NewGuid();
    public string Name { get; }
    public Uri Url { get; }
    public FakeBehaviour Behaviour { get; }

    /// <summary>Chunk PUTs received, whatever the answer.</summary>
    public int Attempts => Volatile.Read(ref _attempts);

    /// <summary>Chunk reads served (with <c>servesReads</c>).</summary>
    public int Reads => Volatile.Read(ref _reads);

    /// <summary>Chunk reads are held unanswered, as by a node that stalls without failing (with <c>servesReads</c>).</summary>
    public bool ReadsHang { get; set; }

    /// <summary>Chunk reads are answered only after this long, as by a node on a congested link (with <c>servesReads</c>).</summary>
    public TimeSpan ReadDelay { get; set; }

    /// <summary>Reads held by <see cref="ReadsHang"/> or <see cref="ReadDelay"/> that are not answered or dropped yet.</summary>
    public int HangingReads => Volatile.Read(ref _hangingReads);

    public ConcurrentDictionary<string, byte[]> Chunks { get; } = new(StringComparer.Ordinal);

    /// <param name="servesReads">
    /// Also serve back and delete what it stored, as a real node does: downloads work, and the embedded Replicator
    /// can copy from it (so chunks below their factor get repaired, which tests of the backlog must not have).
    /// </param>
    public static async Task<FakeNode> StartAsync(string name, FakeBehaviour behaviour, CancellationToken ct, bool servesReads = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        FakeNode? node = null;
        app.MapPut("/chunks/{id}", async (string id, HttpContext context) =>
        {
            var self = node!;
            Interlocked.Increment(ref self._attempts);
            using var body = new MemoryStream();
            if (self.Behaviour == FakeBehaviour.Hang)
            {
                // Until the gateway's per-request timeout cuts the connection.
                await Task.Delay(Timeout.Infinite, context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
                return Results.Empty;
            }
            await context.Request.Body.CopyToAsync(body, context.RequestAborted);
            return self.Behaviour switch
            {
                FakeBehaviour.Store when ChunkIds.Compute(body.ToArray()) == id => Results.StatusCode(self.Chunks.TryAdd(id, body.ToArray()) ? 201 : 200),
                FakeBehaviour.Store => Results.Problem("the bytes do not hash to the id", statusCode: 422),
                FakeBehaviour.ServerError => Results.Problem("scripted failure", statusCode: 500),
                FakeBehaviour.Full => Results.Problem("scripted: no room", statusCode: 507),
                FakeBehaviour.IntegrityRejected => Results.Problem("scripted: the bytes do not hash to the id", statusCode: 422),
                _ => Results.Problem("scripted: bad request", statusCode: 400),
            };
        });
        if (servesReads)
        {
            app.MapMethods("/chunks/{id}", [HttpMethods.Get, HttpMethods.Head], async (string id, HttpContext context) =>
            {
                var self = node!;
                Interlocked.Increment(ref self._reads);
                if (self.ReadsHang || self.ReadDelay > TimeSpan.Zero)
                {
                    // Until the delay is over, or the gateway drops the read (the connection closes) or the node is disposed.
                    Interlocked.Increment(ref self._hangingReads);
                    try { await Task.Delay(self.ReadsHang ? Timeout.InfiniteTimeSpan : self.ReadDelay, context.RequestAborted); }
                    catch (OperationCanceledException) { return Results.Empty; }
                    finally { Interlocked.Decrement(ref self._hangingReads); }
                }
                return self.Chunks.TryGetValue(id, out var bytes) ? Results.Bytes(bytes, "application/octet-stream") : Results.NotFound();
            });
            app.MapDelete("/chunks/{id}", (string id) => node!.Chunks.TryRemove(id, out _) ? Results.NoContent() : Results.NotFound());
        }
        app.MapGet("/chunks", () => new ChunkInventoryPage(
            node!.Chunks.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new StoredChunk(c.Key, c.Value.Length)).ToList(), null));
        await app.StartAsync(ct);
        var address = new Uri(app.Urls.Single());
        node = new FakeNode(name, new Uri($"http://127.0.0.1:{address.Port}/"), behaviour, app);
        return node;
    }

    /// <summary>A registered node at a port nothing listens on: every connection is refused.</summary>
    public static FakeNode Refusing(string name)
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return new FakeNode(name, new Uri($"http://127.0.0.1:{port}/"), FakeBehaviour.Store, app: null);
    }

    /// <summary>Registers the node with the gateway, as a node does at start, reporting <paramref name="freeBytes"/> (placement weighs by it).</summary>
    public async Task RegisterAsync(GatewayFactory gateway, long freeBytes, CancellationToken ct)
    {
        using var cluster = gateway.CreateClusterClient();
        using var response = await cluster.PostAsJsonAsync("/internal/nodes/register",
            new NodeRegistration(Id, Name, Url.ToString(), new NodeUsage(freeBytes, freeBytes, 0, 0)), DfsJson.Options, ct);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Heartbeats as a live node does, every <paramref name="interval"/>, until <paramref name="ct"/> ends.</summary>
    public async Task HeartbeatAsync(GatewayFactory gateway, long freeBytes, TimeSpan interval, CancellationToken ct)
    {
        using var cluster = gateway.CreateClusterClient();
        try
        {
            while (true)
            {
                using (var response = await cluster.PostAsJsonAsync($"/internal/nodes/{Id}/heartbeat",
                           new NodeHeartbeat(new NodeUsage(freeBytes, freeBytes, 0, 0)), DfsJson.Options, ct))
                    response.EnsureSuccessStatusCode();
                await Task.Delay(interval, ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null) await _app.DisposeAsync();
    }
}

/// <summary>Records the gateway's own instruments (its meter, not another gateway's in the same test process).</summary>
public sealed class GatewayInstruments : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, long> _gauges = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<(string Name, long Value, KeyValuePair<string, object?>[] Tags)> _counts = new();

    public GatewayInstruments(GatewayFactory gateway)
    {
        var scope = gateway.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == GatewayMetrics.Name && ReferenceEquals(instrument.Meter.Scope, scope))
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            if (instrument is ObservableGauge<long>) _gauges[instrument.Name] = value;
            else _counts.Enqueue((instrument.Name, value, tags.ToArray()));
        });
        _listener.Start();
    }

    /// <summary>The gauges' current values (observes them now).</summary>
    public IReadOnlyDictionary<string, long> Gauges()
    {
        _listener.RecordObservableInstruments();
        return new Dictionary<string, long>(_gauges, StringComparer.Ordinal);
    }

    /// <summary>The sum of a counter's increments, per "kind" tag.</summary>
    public IReadOnlyDictionary<string, long> CountsByKind(string name) => CountsBy(name, "kind");

    /// <summary>The sum of a counter's increments, per value of its tag <paramref name="tag"/> ("" without one).</summary>
    public IReadOnlyDictionary<string, long> CountsBy(string name, string tag) =>
        _counts.Where(c => c.Name == name)
            .GroupBy(c => c.Tags.FirstOrDefault(t => t.Key == tag).Value as string ?? "")
            .ToDictionary(g => g.Key, g => g.Sum(c => c.Value), StringComparer.Ordinal);

    public void Dispose() => _listener.Dispose();
}
