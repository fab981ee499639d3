using System.Diagnostics;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Dfs.Gateway.Http;
using Dfs.Gateway.Namespace;
using Dfs.Gateway.Nodes;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Files;

/// <summary>A chunk fetched and verified, in a pooled buffer the caller returns.</summary>
public sealed class VerifiedChunk(ChunkBuffers buffers, byte[] buffer, int length) : IDisposable
{
    public ReadOnlyMemory<byte> Data => buffer.AsMemory(0, length);
    public void Dispose() => buffers.Return(buffer);
}

/// <summary>
/// GET: fetches each chunk whole, checks its SHA-256 against its id before a byte of it is sent, and falls
/// over to the next copy when a node is down, refuses, times out or serves bad bytes; a bad or missing copy is
/// reported so it gets replaced; a copy slow to answer gets the next one asked too (hedged reads). A small file's chunk kept in the metadata store comes with its layout. The next chunk is fetched while the current one is sent (read-ahead of one),
/// so memory stays at two chunks per download.
/// </summary>
public sealed class DownloadService(
    NodeRegistry registry,
    NodeSpeeds speeds,
    IStorageNodeClient nodesClient,
    ChunkBuffers buffers,
    CorruptCopyReporter corruptCopies,
    ReadCache cache,
    IOptions<GatewayOptions> options,
    GatewayMetrics metrics,
    ILogger<DownloadService> logger)
{
    /// <summary>
    /// Streams bytes [from, to] of the version laid out in <paramref name="layout"/> to <paramref name="output"/>. A layout from
    /// the read cache comes with <paramref name="reload"/>: a chunk none of whose cached holders serves is looked up again.
    /// </summary>
    public async Task CopyRangeAsync(IReadOnlyList<ChunkLayout> layout, long from, long to, Stream output, CancellationToken ct,
        Func<CancellationToken, Task<IReadOnlyList<ChunkLayout>>>? reload = null)
    {
        var wanted = layout.Where(c => c.Offset + c.Size > from && c.Offset <= to).ToList();
        // Once per download, shared by the chunk being sent and the one read ahead (they may both find their holders gone).
        var gate = new Lock();
        Task<IReadOnlyList<ChunkLayout>>? reloaded = null;
        Func<ChunkLayout, CancellationToken, Task<ChunkLayout?>>? fresher = reload is null ? null : async (stale, token) =>
        {
            Task<IReadOnlyList<ChunkLayout>> loading;
            lock (gate) loading = reloaded ??= reload(token);
            return (await loading).FirstOrDefault(c => c.Index == stale.Index);
        };
        Task<VerifiedChunk>? next = wanted.Count > 0 ? FetchAsync(wanted[0], ct, fresher) : null;
        for (var i = 0; i < wanted.Count; i++)
        {
            using var chunk = await next!;
            next = i + 1 < wanted.Count ? FetchAsync(wanted[i + 1], ct, fresher) : null;
            try
            {
                var c = wanted[i];
                var start = (int)Math.Max(0, from - c.Offset);
                var end = (int)Math.Min(c.Size, to - c.Offset + 1);
                await output.WriteAsync(chunk.Data[start..end], ct);
                metrics.BytesServed(end - start);
            }
            catch
            {
                // Do not leak the read-ahead buffer when the client goes away.
                if (next is not null) _ = next.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); }, TaskScheduler.Default);
                throw;
            }
        }
    }

    /// <summary>
    /// Fetches a chunk from the read cache, else from the first copy that answers with the right bytes; when none does and
    /// <paramref name="fresher"/> knows other holders (the layout was cached), from those.
    /// </summary>
    public async Task<VerifiedChunk> FetchAsync(ChunkLayout chunk, CancellationToken ct, Func<ChunkLayout, CancellationToken, Task<ChunkLayout?>>? fresher = null)
    {
        if (await cache.GetChunkAsync(chunk.ChunkId, chunk.Size) is { } cached)
        {
            var copy = buffers.Rent(cached.Length);
            cached.CopyTo(copy, 0);
            return new VerifiedChunk(buffers, copy, cached.Length);
        }
        var failures = new List<string>();
        if (chunk.Inline is { } inline)
        {
            if (inline.Length == chunk.Size && ChunkIds.Matches(inline, chunk.ChunkId))
            {
                var copy = buffers.Rent(inline.Length);
                inline.CopyTo(copy, 0);
                cache.PutVerifiedChunk(chunk.ChunkId, inline);
                return new VerifiedChunk(buffers, copy, inline.Length);
            }
            metrics.CorruptCopy();
            failures.Add("metadata store: bytes do not match the chunk's SHA-256");
            logger.LogError("Corrupt inline bytes of chunk {Chunk} in the metadata store", chunk.ChunkId);
        }
        if (await ReadFirstGoodCopyAsync(chunk, OrderCopies(chunk.Holders).ToList(), failures, ct) is { } read) return read;

        if (fresher is not null && await fresher(chunk, ct) is { } fresh && !fresh.Holders.ToHashSet().SetEquals(chunk.Holders))
            return await FetchAsync(fresh, ct);
        var detail = failures.Count == 0
            ? $"No copy of chunk {chunk.Index} ({chunk.ChunkId}) is on a reachable node."
            : $"Every copy of chunk {chunk.Index} ({chunk.ChunkId}) failed: {string.Join("; ", failures)}.";
        throw new DfsProblemException(StatusCodes.Status502BadGateway, "Chunk unavailable", detail);
    }

    /// <summary>
    /// Asks the copies in order, hedged (<see cref="ReplicaRace{TReplica}"/>: the next copy when one fails or is slow to
    /// answer); null when every copy failed, each reason in <paramref name="failures"/>.
    /// </summary>
    private async Task<VerifiedChunk?> ReadFirstGoodCopyAsync(ChunkLayout chunk, List<NodeView> copies, List<string> failures, CancellationToken ct)
    {
        if (copies.Count == 0) return null;
        var gate = new Lock();
        var abandoned = new List<NodeView>();
        var race = new ReplicaRace<NodeView>(copies, speeds.HedgeDelay(chunk.Size, options.Value.HedgeAfterMs));
        var good = await race.FirstAsync<VerifiedChunk>(async (node, dropped) =>
        {
            var read = await ReadCopyAsync(chunk, node, ct, dropped, abandonable: true);
            lock (gate)
            {
                if (read.Failure is { } failure) failures.Add(failure);
                if (read.Abandoned) abandoned.Add(node);
            }
            return read.Chunk;
        }, ct);
        if (race.Hedged) metrics.ReadHedged(good is null ? "none" : race.AnsweredByHedge ? "hedge" : "first");
        // Reads of a node that turned slow are abandoned so that they move to another copy. With none left, a slow copy still
        // beats an error: read it again with only the node time limit, if its node still heartbeats (a silent one would not answer).
        foreach (var node in good is null ? abandoned.Where(n => registry.Find(n.Id)?.IsLive == true).ToList() : [])
        {
            var read = await ReadCopyAsync(chunk, node, ct, CancellationToken.None, abandonable: false);
            if ((good = read.Chunk) is not null) break;
            failures.Add(read.Failure!);
        }
        if (good is not null && failures.Count > 0) metrics.ReadFailedOver(failures[^1]);
        return good;
    }

    /// <summary>One copy's answer: the verified chunk, or why not (null both when the read was dropped).</summary>
    /// <param name="Abandoned">The read was failed because its node stopped heartbeating or turned slow (<see cref="NodeRegistry.Unreachable"/>).</param>
    private readonly record struct CopyRead(VerifiedChunk? Chunk, string? Failure, bool Abandoned = false);

    /// <summary>
    /// Reads one copy and checks it; <paramref name="dropped"/> ends it quietly when another copy answered first, and an
    /// <paramref name="abandonable"/> read ends when its node turns suspect or slow.
    /// </summary>
    private async Task<CopyRead> ReadCopyAsync(ChunkLayout chunk, NodeView node, CancellationToken ct, CancellationToken dropped, bool abandonable)
    {
        var buffer = buffers.Rent(chunk.Size);
        var keep = false;
        // One span per copy tried: a read that fell over shows the failed attempt, and why, beside the one that served.
        using var attempt = GatewayMetrics.Source.StartActivity("dfs.chunk.read");
        attempt?.SetTag("dfs.chunk", chunk.ChunkId);
        attempt?.SetTag("dfs.node", node.Name);
        var unreachable = abandonable ? registry.Unreachable(node.Id) : CancellationToken.None;
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(dropped, unreachable);
            timeout.CancelAfter(TimeSpan.FromSeconds(options.Value.NodeRequestTimeoutSeconds));
            var started = Stopwatch.GetTimestamp();
            var length = await nodesClient.ReadChunkAsync(node.Url, chunk.ChunkId, buffer.AsMemory(0, (int)chunk.Size), timeout.Token);
            speeds.Record(node.Id, length, Stopwatch.GetElapsedTime(started));
            if (length != chunk.Size || !ChunkIds.Matches(buffer.AsSpan(0, length), chunk.ChunkId))
            {
                metrics.CorruptCopy();
                attempt?.SetStatus(ActivityStatusCode.Error, "bytes do not match the chunk's SHA-256");
                logger.LogError("Corrupt copy of chunk {Chunk} on node {Node} ({Length} bytes read)", chunk.ChunkId, node.Name, length);
                corruptCopies.Report(chunk.ChunkId, node);
                return new CopyRead(null, $"{node.Name}: bytes do not match the chunk's SHA-256");
            }
            keep = true;
            cache.PutVerifiedChunk(chunk.ChunkId, buffer.AsSpan(0, length));
            return new CopyRead(new VerifiedChunk(buffers, buffer, length), null);
        }
        catch (OperationCanceledException) when (dropped.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            attempt?.SetTag("dfs.read.dropped", true);
            return default;
        }
        catch (Exception e) when (!ct.IsCancellationRequested && e is StorageNodeException or OperationCanceledException)
        {
            var abandoned = unreachable.IsCancellationRequested;
            var failure = $"{node.Name}: {(abandoned ? "abandoned (stopped heartbeating or turned far slower than the others)" : e is StorageNodeException s ? s.Kind.ToString() : "timed out")}";
            attempt?.SetStatus(ActivityStatusCode.Error, failure);
            logger.LogWarning("Reading chunk {Chunk} from {Node} failed: {Error}", chunk.ChunkId, node.Name, e.Message);
            // The node is up and says the copy is not there: as useless as a corrupt one, and it must not go on
            // counting as a copy. An outage or a timeout says nothing about the copy, so those are only skipped.
            if (e is StorageNodeException { Kind: StorageFailureKind.NotFound }) corruptCopies.ReportMissing(chunk.ChunkId, node);
            return new CopyRead(null, failure, abandoned);
        }
        finally
        {
            if (!keep) buffers.Return(buffer);
        }
    }

    /// <summary>Live nodes first (slow ones last among them, see <see cref="NodeSpeeds"/>), then suspect ones; dead nodes are not tried.</summary>
    private IEnumerable<NodeView> OrderCopies(IReadOnlyList<Guid> holders) =>
        holders.Select(registry.Find).OfType<NodeView>()
            .Where(n => n.IsReadable)
            .OrderBy(n => n.IsLive ? speeds.IsSlow(n.Id) ? 1 : 0 : 2);
}
