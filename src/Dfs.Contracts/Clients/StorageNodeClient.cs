using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Clients;

/// <summary>HttpClient implementation of <see cref="IStorageNodeClient"/>. The HttpClient has no BaseAddress.</summary>
public sealed class StorageNodeClient(HttpClient http) : IStorageNodeClient
{
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
        using var request = new HttpRequestMessage(HttpMethod.Put, ChunkUri(node, chunkId)) { Content = content };
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await SendAsync(node, request, HttpCompletionOption.ResponseContentRead, ct);
        await ThrowIfFailedAsync(node, response, ct);
        return response.StatusCode == HttpStatusCode.Created;
    }

    public async Task<int> ReadChunkAsync(Uri node, string chunkId, Memory<byte> buffer, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ChunkUri(node, chunkId));
        using var response = await SendAsync(node, request, HttpCompletionOption.ResponseHeadersRead, ct);
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
        using var request = new HttpRequestMessage(HttpMethod.Get, ChunkUri(node, chunkId));
        if (from is not null || to is not null) request.Headers.Range = new RangeHeaderValue(from ?? 0, to);
        var response = await SendAsync(node, request, HttpCompletionOption.ResponseHeadersRead, ct);
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
        using var request = new HttpRequestMessage(HttpMethod.Head, ChunkUri(node, chunkId));
        using var response = await SendAsync(node, request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await ThrowIfFailedAsync(node, response, ct);
        return true;
    }

    public async Task<bool> DeleteChunkAsync(Uri node, string chunkId, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, ChunkUri(node, chunkId));
        using var response = await SendAsync(node, request, HttpCompletionOption.ResponseContentRead, ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return false;
        await ThrowIfFailedAsync(node, response, ct);
        return true;
    }

    public async Task<ChunkInventoryPage> ListChunksAsync(Uri node, string? after = null, int limit = 1000, CancellationToken ct = default)
    {
        var uri = new Uri(node, $"chunks?limit={limit}" + (after is null ? "" : $"&after={after}"));
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        using var response = await SendAsync(node, request, HttpCompletionOption.ResponseContentRead, ct);
        await ThrowIfFailedAsync(node, response, ct);
        return (await response.Content.ReadFromJsonAsync<ChunkInventoryPage>(DfsJson.Options, ct))!;
    }

    public async Task<StorageNodeStatus> GetStatusAsync(Uri node, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(node, "status"));
        using var response = await SendAsync(node, request, HttpCompletionOption.ResponseContentRead, ct);
        await ThrowIfFailedAsync(node, response, ct);
        return (await response.Content.ReadFromJsonAsync<StorageNodeStatus>(DfsJson.Options, ct))!;
    }

    private static Uri ChunkUri(Uri node, string chunkId) => new(node, $"chunks/{chunkId}");

    private async Task<HttpResponseMessage> SendAsync(Uri node, HttpRequestMessage request, HttpCompletionOption completion, CancellationToken ct)
    {
        try
        {
            return await http.SendAsync(request, completion, ct);
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
    }

    private static async Task ThrowIfFailedAsync(Uri node, HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var body = "";
        try { body = await response.Content.ReadAsStringAsync(ct); } catch (HttpRequestException) { }
        var kind = response.StatusCode switch
        {
            HttpStatusCode.InsufficientStorage => StorageFailureKind.Full,
            HttpStatusCode.NotFound => StorageFailureKind.NotFound,
            HttpStatusCode.UnprocessableEntity => StorageFailureKind.IntegrityRejected,
            HttpStatusCode.RequestTimeout => StorageFailureKind.Timeout,
            >= HttpStatusCode.InternalServerError => StorageFailureKind.ServerError,
            _ => StorageFailureKind.BadRequest,
        };
        throw new StorageNodeException(node, kind, $"{(int)response.StatusCode} {response.ReasonPhrase} {body}".Trim());
    }

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
