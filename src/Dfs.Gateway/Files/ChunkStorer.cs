using System.Diagnostics;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Http;
using Dfs.Gateway.Nodes;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Hedging;
using Polly.Timeout;

namespace Dfs.Gateway.Files;

/// <summary>
/// Stores one chunk on a node chosen by placement: a Polly hedging pipeline in which each attempt places the chunk on a
/// node not yet tried, each attempt has the node time limit, and a failure another node may not share (unreachable,
/// timeout, 5xx, full, bytes rejected) starts the next attempt at once, up to Dfs:Gateway:MaxStoreAttempts; a bad request
/// stops at once. An attempt slow to answer (4 times what the nodes' recent pace says the chunk takes, at least
/// Dfs:Gateway:HedgeAfterMs) gets one more attempt on another node beside it: the first stored copy wins, the other send
/// is cancelled (a copy it finished anyway is unreferenced, and garbage collection takes it).
/// </summary>
public sealed class ChunkStorer
{
    private static readonly ResiliencePropertyKey<Attempts> AttemptsKey = new("dfs.store-attempts");
    private readonly Placement _placement;
    private readonly ILogger<ChunkStorer> _logger;
    private readonly NodeRegistry _registry;
    private readonly IStorageNodeClient _nodes;
    private readonly GatewayMetrics _metrics;
    private readonly NodeSpeeds _speeds;
    private readonly ResiliencePipeline<Guid> _pipeline;
    private readonly TimeSpan _hop;
    private readonly int _maxAttempts;

    public ChunkStorer(Placement placement, NodeRegistry registry, NodeSpeeds speeds, IStorageNodeClient nodes, IOptions<GatewayOptions> options,
        GatewayMetrics metrics, ILogger<ChunkStorer> logger)
    {
        _placement = placement;
        _speeds = speeds;
        _registry = registry;
        _logger = logger;
        _nodes = nodes;
        _metrics = metrics;
        _hop = TimeSpan.FromSeconds(options.Value.NodeRequestTimeoutSeconds);
        _maxAttempts = options.Value.MaxStoreAttempts;
        var hedgeAfterMs = options.Value.HedgeAfterMs;
        var builder = new ResiliencePipelineBuilder<Guid>();
        if (_maxAttempts > 1)
            builder.AddHedging(new HedgingStrategyOptions<Guid>
            {
                MaxHedgedAttempts = _maxAttempts - 1,
                ShouldHandle = new PredicateBuilder<Guid>()
                    .Handle<StorageNodeException>(e => e.IsRetryableElsewhere)
                    .Handle<TimeoutRejectedException>()
                    // A hedge that found no node left must not end the store while an earlier attempt may still succeed.
                    .Handle<NoNodeLeftException>(),
                // One attempt beside a slow one, not more: with two under way, the next starts only when one fails.
                DelayGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(AttemptsKey, null!) is { InFlight: 1 } attempts
                    ? speeds.HedgeDelay(attempts.Size, hedgeAfterMs) ?? Timeout.InfiniteTimeSpan
                    : Timeout.InfiniteTimeSpan),
            });
        _pipeline = builder.AddTimeout(TimeSpan.FromSeconds(options.Value.NodeRequestTimeoutSeconds)).Build();
    }

    /// <summary>The node that now holds the chunk; a 507 problem when every node is full, a 503 when they failed otherwise.</summary>
    public async Task<Guid> StoreAsync(string chunkId, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var attempts = new Attempts(chunkId, data.Length);
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(AttemptsKey, attempts);
        try
        {
            return await _pipeline.ExecuteAsync(
                static (ResilienceContext context, (ChunkStorer Storer, Attempts Attempts, ReadOnlyMemory<byte> Data) state) =>
                    state.Storer.AttemptAsync(state.Attempts, state.Data, context.CancellationToken),
                context, (this, attempts, data));
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is StorageNodeException or TimeoutRejectedException or NoNodeLeftException)
        {
            List<string> failures;
            lock (attempts) failures = [.. attempts.Failures];
            var detail = failures.Count == 0
                ? "No live storage node has room for the chunk."
                : $"Could not store a chunk after {failures.Count} attempt(s): {string.Join("; ", failures)}.";
            // Every node full (or none with room to begin with) is a lasting condition, unlike an outage: 507, not 503.
            throw new DfsProblemException(attempts.AllFull ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status503ServiceUnavailable,
                "Storage unavailable", detail + " Nothing was committed.");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>
    /// Synchronous pipeline replication: <paramref name="copies"/> fsynced copies on distinct nodes before this returns,
    /// or a 503/507 problem and no claim of any. Each round sends the chunk down a chain of nodes that each store it while
    /// forwarding it; the chain answers how far it got, and the next round chains new nodes for the copies still missing,
    /// leaving out the node that broke the chain (a replacement takes its place). Fewer durable copies than asked are never
    /// reported as stored: the copies that were made stay unreferenced and garbage collection takes them.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> StoreCopiesAsync(string chunkId, ReadOnlyMemory<byte> data, int copies, CancellationToken ct)
    {
        if (copies == 1) return [await StoreAsync(chunkId, data, ct)];
        var holders = new List<NodeView>(copies);
        var failed = new List<Guid>();
        var failures = new List<string>();
        var allFull = true;
        // Each round either adds a copy or leaves out a node, so it ends; the cap bounds a cluster of flaky nodes.
        for (var round = 0; holders.Count < copies && round < _maxAttempts + copies; round++)
        {
            var chain = ChooseChain(data.Length, copies - holders.Count, [.. holders.Select(h => h.Id), .. failed]);
            if (chain.Count == 0) break;
            var started = Stopwatch.GetTimestamp();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _registry.Unreachable(chain[0].Id));
            // A node waits hop × (nodes after it) for its downstream; the gateway waits one hop more than the head does.
            timeout.CancelAfter(_hop * chain.Count);
            try
            {
                var result = await _nodes.PutChunkPipelineAsync(chain[0].Url, chunkId, new ReadOnlyMemoryContent(data), [.. chain.Skip(1).Select(n => n.Url)],
                    _hop, timeout.Token);
                var made = Math.Clamp(result.Copies, 1, chain.Count);
                foreach (var node in chain.Take(made))
                {
                    holders.Add(node);
                    _registry.NoteStored(node.Id, data.Length);
                    _metrics.ChunkStored(node.Name, Stopwatch.GetElapsedTime(started));
                }
                if (made == chain.Count) continue;
                var broken = chain[made];
                failed.Add(broken.Id);
                allFull &= result.FailureKind == StorageFailureKind.Full;
                failures.Add($"{broken.Name}: {result.FailureKind}: {result.Failure}");
                _metrics.StoreRetried((result.FailureKind ?? StorageFailureKind.ServerError).ToString());
            }
            catch (Exception e) when (!ct.IsCancellationRequested && e is StorageNodeException { IsRetryableElsewhere: true } or OperationCanceledException)
            {
                // The head kept no copy (or the whole chain outlived its time): leave the head out and chain again.
                failed.Add(chain[0].Id);
                allFull &= e is StorageNodeException { Kind: StorageFailureKind.Full };
                failures.Add($"{chain[0].Name}: {(e is StorageNodeException f ? $"{f.Kind}: {f.Message}" : "timed out")}");
                _metrics.StoreRetried(e is StorageNodeException s ? s.Kind.ToString() : nameof(StorageFailureKind.Timeout));
            }
            _logger.LogWarning("Pipeline store of chunk {Chunk} has {Copies} of {Wanted} copies ({Reason}); chaining other nodes",
                chunkId, holders.Count, copies, failures[^1]);
        }
        if (holders.Count == copies) return [.. holders.Select(h => h.Id)];
        var detail = $"Only {holders.Count} of {copies} durable copies of a chunk could be made: " +
                     (failures.Count == 0 ? "no other live storage node has room for one." : $"{string.Join("; ", failures)}.");
        throw new DfsProblemException(allFull && failures.Count > 0 ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status503ServiceUnavailable,
            "Storage unavailable", detail + " Nothing was committed.");
    }

    private List<NodeView> ChooseChain(long size, int length, List<Guid> exclude)
    {
        var chain = new List<NodeView>(length);
        while (chain.Count < length && _placement.Choose(size, exclude) is { } node)
        {
            chain.Add(node);
            exclude.Add(node.Id);
        }
        return chain;
    }

    private async ValueTask<Guid> AttemptAsync(Attempts attempts, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        NodeView node;
        lock (attempts)
        {
            node = _placement.Choose(data.Length, attempts.Tried) ?? throw new NoNodeLeftException();
            attempts.Tried.Add(node.Id);
            // Started while an earlier attempt is still under way: a hedge, not a retry after a failure.
            if (attempts.Tried.Count - 1 > attempts.Failures.Count) _metrics.StoreHedged();
        }
        var started = Stopwatch.GetTimestamp();
        try
        {
            await PutUnlessUnreachableAsync(node, attempts.ChunkId, data, ct);
            attempts.Done = true;
            _registry.NoteStored(node.Id, data.Length);
            _speeds.Record(node.Id, data.Length, Stopwatch.GetElapsedTime(started));
            _metrics.ChunkStored(node.Name, Stopwatch.GetElapsedTime(started));
            return node.Id;
        }
        catch (Exception e) when (e is StorageNodeException or OperationCanceledException)
        {
            // Cancelled because another attempt stored the chunk first (or the upload ended): not a failure of this node.
            if (e is OperationCanceledException && attempts.Done) throw;
            // The pipeline's timeout cancels the attempt's token and turns that into TimeoutRejectedException.
            var kind = e is StorageNodeException s ? s.Kind.ToString() : nameof(StorageFailureKind.Timeout);
            var failure = $"{node.Name}: {(e is StorageNodeException f ? $"{f.Kind}: {f.Message}" : "timed out")}";
            lock (attempts)
            {
                attempts.AllFull &= e is StorageNodeException { Kind: StorageFailureKind.Full };
                attempts.Failures.Add(failure);
            }
            _metrics.StoreRetried(kind);
            if (e is not StorageNodeException { IsRetryableElsewhere: false })
                _logger.LogWarning("Storing chunk {Chunk} on {Node} failed ({Reason}); trying another node", attempts.ChunkId, node.Name, failure);
            throw;
        }
    }

    /// <summary>The PUT, failed as unreachable (so retried elsewhere) once the node stops heartbeating or turns slow.</summary>
    private async Task PutUnlessUnreachableAsync(NodeView node, string chunkId, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var unreachable = _registry.Unreachable(node.Id);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, unreachable);
        try
        {
            await _nodes.PutChunkAsync(node.Url, chunkId, data, linked.Token);
        }
        catch (OperationCanceledException e) when (unreachable.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new StorageNodeException(node.Url, StorageFailureKind.Unreachable, "stopped heartbeating or turned far slower than the others while the chunk was sent", e);
        }
    }

    /// <summary>What the attempts of one chunk tried and met (attempts run side by side when hedged: lock it).</summary>
    private sealed class Attempts(string chunkId, long size)
    {
        public string ChunkId { get; } = chunkId;
        public long Size { get; } = size;
        public List<Guid> Tried { get; } = [];
        public List<string> Failures { get; } = [];
        public bool AllFull { get; set; } = true;
        public volatile bool Done;

        /// <summary>Attempts placed and not failed yet (the one that succeeds ends them all).</summary>
        public int InFlight
        {
            get
            {
                lock (this) return Tried.Count - Failures.Count;
            }
        }
    }

    /// <summary>Placement has no node left that was not tried: the attempts end.</summary>
    private sealed class NoNodeLeftException : Exception;
}
