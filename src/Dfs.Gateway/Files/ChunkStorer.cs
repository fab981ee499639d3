using System.Diagnostics;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Http;
using Dfs.Gateway.Nodes;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Dfs.Gateway.Files;

/// <summary>
/// Stores one chunk on a node chosen by placement: a Polly pipeline in which each attempt places the chunk on a node not
/// yet tried, each attempt has the node time limit, and a failure another node may not share (unreachable, timeout, 5xx,
/// full, bytes rejected) moves on to the next attempt, up to Dfs:Gateway:MaxStoreAttempts; a bad request stops at once.
/// No delay between attempts: the next one goes to another node.
/// </summary>
public sealed class ChunkStorer
{
    private static readonly ResiliencePropertyKey<Attempts> AttemptsKey = new("dfs.store-attempts");
    private readonly Placement _placement;
    private readonly NodeRegistry _registry;
    private readonly IStorageNodeClient _nodes;
    private readonly GatewayMetrics _metrics;
    private readonly ResiliencePipeline<Guid> _pipeline;

    public ChunkStorer(Placement placement, NodeRegistry registry, IStorageNodeClient nodes, IOptions<GatewayOptions> options, GatewayMetrics metrics,
        ILogger<ChunkStorer> logger)
    {
        _placement = placement;
        _registry = registry;
        _nodes = nodes;
        _metrics = metrics;
        _pipeline = new ResiliencePipelineBuilder<Guid>()
            .AddRetry(new RetryStrategyOptions<Guid>
            {
                MaxRetryAttempts = options.Value.MaxStoreAttempts - 1,
                Delay = TimeSpan.Zero,
                ShouldHandle = new PredicateBuilder<Guid>()
                    .Handle<StorageNodeException>(e => e.IsRetryableElsewhere)
                    .Handle<TimeoutRejectedException>(),
                OnRetry = args =>
                {
                    var attempts = args.Context.Properties.GetValue(AttemptsKey, null!);
                    logger.LogWarning("Storing chunk {Chunk} on {Node} failed ({Reason}); trying another node",
                        attempts.ChunkId, attempts.LastNode, attempts.Failures[^1]);
                    return ValueTask.CompletedTask;
                },
            })
            .AddTimeout(TimeSpan.FromSeconds(options.Value.NodeRequestTimeoutSeconds))
            .Build();
    }

    /// <summary>The node that now holds the chunk; a 507 problem when every node is full, a 503 when they failed otherwise.</summary>
    public async Task<Guid> StoreAsync(string chunkId, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var attempts = new Attempts(chunkId);
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
            var detail = attempts.Failures.Count == 0
                ? "No live storage node has room for the chunk."
                : $"Could not store a chunk after {attempts.Failures.Count} attempt(s): {string.Join("; ", attempts.Failures)}.";
            // Every node full (or none with room to begin with) is a lasting condition, unlike an outage: 507, not 503.
            throw new DfsProblemException(attempts.AllFull ? StatusCodes.Status507InsufficientStorage : StatusCodes.Status503ServiceUnavailable,
                "Storage unavailable", detail + " Nothing was committed.");
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private async ValueTask<Guid> AttemptAsync(Attempts attempts, ReadOnlyMemory<byte> data, CancellationToken ct)
    {
        var node = _placement.Choose(data.Length, attempts.Tried) ?? throw new NoNodeLeftException();
        attempts.Tried.Add(node.Id);
        attempts.LastNode = node.Name;
        var started = Stopwatch.GetTimestamp();
        try
        {
            await _nodes.PutChunkAsync(node.Url, attempts.ChunkId, data, ct);
            _registry.NoteStored(node.Id, data.Length);
            _metrics.ChunkStored(node.Name, Stopwatch.GetElapsedTime(started));
            return node.Id;
        }
        catch (Exception e) when (e is StorageNodeException or OperationCanceledException)
        {
            // The pipeline's timeout cancels the attempt's token and turns that into TimeoutRejectedException.
            var kind = e is StorageNodeException s ? s.Kind.ToString() : nameof(StorageFailureKind.Timeout);
            attempts.AllFull &= e is StorageNodeException { Kind: StorageFailureKind.Full };
            attempts.Failures.Add($"{node.Name}: {(e is StorageNodeException f ? $"{f.Kind}: {f.Message}" : "timed out")}");
            _metrics.StoreRetried(kind);
            throw;
        }
    }

    /// <summary>What the attempts of one chunk tried and met.</summary>
    private sealed class Attempts(string chunkId)
    {
        public string ChunkId { get; } = chunkId;
        public List<Guid> Tried { get; } = [];
        public List<string> Failures { get; } = [];
        public bool AllFull { get; set; } = true;
        public string? LastNode { get; set; }
    }

    /// <summary>Placement has no node left that was not tried: the attempts end.</summary>
    private sealed class NoNodeLeftException : Exception;
}
