using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Collections.Concurrent;
using System.Net.Sockets;
using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Clients;

/// <summary>
/// <see cref="IStorageNodeClient"/> over each node's Refit client (<see cref="IStorageNodeApi"/>, one per node URL, kept):
/// what it adds is what callers decide on, the kind of each failure (unreachable, timeout, full, integrity, gone) and
/// reads into the caller's pooled buffer.
/// </summary>
/// <param name="createHttpClient">A client for the nodes (signed requests, pooled connections); the node's URL becomes its base address.</param>
public sealed class StorageNodeClient(Func<HttpClient> createHttpClient) : IStorageNodeClient
{
    private readonly ConcurrentDictionary<Uri, IStorageNodeApi> _nodes = new();

    private IStorageNodeApi Node(Uri node) => _nodes.GetOrAdd(node, url =>
    {
        var http = createHttpClient();
        http.BaseAddress = url;
        return DfsRefit.StorageNode(http);
    });

    public Task<bool> PutChunkAsync(Uri node, string chunkId, ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        PutAsync(node, chunkId, new ReadOnlyMemoryContent(data), ct);

    public Task<bool> PutChunkAsync(Uri node, string chunkId, Stream data, long length, CancellationToken ct = default)
    {
        var content = new StreamContent(data, 1 << 16);
        content.Headers.ContentLength = length;
        return PutAsync(node, chunkId, content, ct);
    }

    private async Task<bool> PutAsync(Uri node, string chunkId, HttpContent content, CancellationToken ct)
    {
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await CallAsync(node, () => Node(node).PutChunkAsync(chunkId, content, ct: ct), ct);
        await ThrowIfFailedAsync(node, response, ct);
        return response.StatusCode == HttpStatusCode.Created;
    }

    public async Task<ChunkPipelineResult> PutChunkPipelineAsync(Uri node, string chunkId, HttpContent content, IReadOnlyList<Uri> downstream,
        TimeSpan hopTimeout, CancellationToken ct = default)
    {
        if (downstream.Count == 0)
        {
            await PutAsync(node, chunkId, content, ct);
            return new ChunkPipelineResult(1);
        }
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        var chain = ChunkPipelineHeaders.FormatDownstream(downstream);
        var hop = ((int)Math.Ceiling(hopTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        using var response = await CallAsync(node, () => Node(node).PutChunkAsync(chunkId, content, chain, hop, ct), ct);
        await ThrowIfFailedAsync(node, response, ct);
        // A node that does not know pipelines answers without the header: only its own copy is certain.
        var copies = response.Headers.TryGetValues(ChunkPipelineHeaders.Copies, out var values)
                     && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
            ? Math.Min(n, downstream.Count + 1)
            : 1;
        if (copies > downstream.Count) return new ChunkPipelineResult(copies);
        var (kind, reason) = ChunkPipelineHeaders.ParseFailure(
            response.Headers.TryGetValues(ChunkPipelineHeaders.Failure, out var failure) ? failure.FirstOrDefault() : null);
        return new ChunkPipelineResult(copies, kind, reason);
    }

    public async Task<int> ReadChunkAsync(Uri node, string chunkId, Memory<byte> buffer, CancellationToken ct = default)
    {
        using var response = await CallAsync(node, () => Node(node).GetChunkAsync(chunkId, null, ct), ct);
        await ThrowIfFailedAsync(node, response, ct);
        var length = response.Content.Headers.ContentLength;
        if (length > buffer.Length)
            throw new StorageNodeException(node, StorageFailureKind.ServerError, $"chunk {chunkId} is {length} bytes, larger than expected {buffer.Length}");
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(ct);
            var total = 0;
            while (true)
            {
                if (total == buffer.Length)
                {
                    // The buffer is full: anything more means the node sent more than the chunk should hold.
                    Span<byte> probe = stackalloc byte[1];
                    if (stream.Read(probe) != 0)
                        throw new StorageNodeException(node, StorageFailureKind.ServerError, $"chunk {chunkId} is larger than expected {buffer.Length}");
                    return total;
                }
                var read = await stream.ReadAsync(buffer[total..], ct);
                if (read == 0) return total;
                total += read;
            }
        }
        catch (Exception e) when (e is HttpRequestException or IOException && !ct.IsCancellationRequested)
        {
            throw new StorageNodeException(node, StorageFailureKind.Unreachable, $"reading chunk {chunkId} failed: {e.Message}", e);
        }
    }

    public async Task<Stream> OpenChunkAsync(Uri node, string chunkId, long? from = null, long? to = null, CancellationToken ct = default)
    {
        var range = from is null && to is null ? null : new RangeHeaderValue(from ?? 0, to).ToString();
        var response = await CallAsync(node, () => Node(node).GetChunkAsync(chunkId, range, ct), ct);
        try
        {
            await ThrowIfFailedAsync(node, response, ct);
            return new ResponseStream(await response.Content.ReadAsStreamAsync(ct), response);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public async Task<bool> HasChunkAsync(Uri node, string chunkId, CancellationToken ct = default)
    {
        using var response = await CallAsync(node, () => Node(node).HeadChunkAsync(chunkId, ct), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await ThrowIfFailedAsync(node, response, ct);
        return true;
    }

    public async Task<bool> DeleteChunkAsync(Uri node, string chunkId, CancellationToken ct = default)
    {
        using var response = await CallAsync(node, () => Node(node).DeleteChunkAsync(chunkId, ct), ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await ThrowIfFailedAsync(node, response, ct);
        return true;
    }

    public Task<ChunkInventoryPage> ListChunksAsync(Uri node, string? after = null, int limit = 1000, CancellationToken ct = default) =>
        CallAsync(node, () => Node(node).ListChunksAsync(after, limit, ct), ct);

    public Task<StorageNodeStatus> GetStatusAsync(Uri node, CancellationToken ct = default) =>
        CallAsync(node, () => Node(node).GetStatusAsync(ct), ct);

    /// <summary>A transport failure or a failed JSON answer as a <see cref="StorageNodeException"/> of the right kind.</summary>
    private static async Task<T> CallAsync<T>(Uri node, Func<Task<T>> call, CancellationToken ct)
    {
        try
        {
            return await call();
        }
        catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
        {
            throw new StorageNodeException(node, StorageFailureKind.Timeout, "timed out", e);
        }
        catch (HttpRequestException e)
        {
            var kind = e.InnerException is SocketException or IOException || e.HttpRequestError is HttpRequestError.ConnectionError
                ? StorageFailureKind.Unreachable
                : StorageFailureKind.ServerError;
            throw new StorageNodeException(node, kind, e.Message, e);
        }
        catch (DfsApiException e)
        {
            throw new StorageNodeException(node, KindOf(e.StatusCode), e.Message, e);
        }
    }

    private static async Task ThrowIfFailedAsync(Uri node, HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = "";
        try { body = await response.Content.ReadAsStringAsync(ct); } catch (HttpRequestException) { }
        throw new StorageNodeException(node, KindOf(response.StatusCode), $"{(int)response.StatusCode} {response.ReasonPhrase} {body}".Trim());
    }

    private static StorageFailureKind KindOf(HttpStatusCode status) => status switch
    {
        HttpStatusCode.InsufficientStorage => StorageFailureKind.Full,
        HttpStatusCode.NotFound => StorageFailureKind.NotFound,
        HttpStatusCode.UnprocessableEntity => StorageFailureKind.IntegrityRejected,
        HttpStatusCode.RequestTimeout => StorageFailureKind.Timeout,
        >= HttpStatusCode.InternalServerError => StorageFailureKind.ServerError,
        _ => StorageFailureKind.BadRequest,
    };

    /// <summary>Keeps the response alive as long as its body stream is read.</summary>
    private sealed class ResponseStream(Stream inner, HttpResponseMessage response) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override int Read(Span<byte> buffer) => inner.Read(buffer);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) { inner.Dispose(); response.Dispose(); }
            base.Dispose(disposing);
        }
    }
}
