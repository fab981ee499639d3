using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

/// <summary>Writes that must be refused or that break off: each leaves neither a chunk nor a temp file.</summary>
public sealed class WriteLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_chunk_larger_than_the_capacity_is_507_and_leaves_nothing()
    {
        await using var node = NodeHost.Start(new Dictionary<string, string?> { ["Dfs:StorageNode:CapacityBytes"] = "1000" });
        var (id, bytes) = TestChunks.Random(2000);

        using var response = await node.Http.PutAsync($"chunks/{id}", TestChunks.Content(bytes), Ct);

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(node.StoredFiles());

        // A refused chunk of the gateway's usual size: the client reads the 507, again and again on the same client.
        var (big, bigBytes) = TestChunks.Random(8 * 1024 * 1024);
        for (var i = 0; i < 3; i++)
        {
            var error = await Assert.ThrowsAsync<StorageNodeException>(() => node.Client.PutChunkAsync(node.Url, big, bigBytes, Ct));
            Assert.Equal(StorageFailureKind.Full, error.Kind);
        }
        Assert.Empty(node.StoredFiles());
    }

    [Fact]
    public async Task Capacity_counts_what_is_already_stored()
    {
        await using var node = NodeHost.Start(new Dictionary<string, string?> { ["Dfs:StorageNode:CapacityBytes"] = "1000" });
        var (first, firstBytes) = TestChunks.Random(600);
        var (second, secondBytes) = TestChunks.Random(600);

        Assert.True(await node.Client.PutChunkAsync(node.Url, first, firstBytes, Ct));
        var error = await Assert.ThrowsAsync<StorageNodeException>(() => node.Client.PutChunkAsync(node.Url, second, secondBytes, Ct));

        Assert.Equal(StorageFailureKind.Full, error.Kind);
        var usage = (await node.Client.GetStatusAsync(node.Url, Ct)).Usage;
        Assert.Equal((1000, 400, 600, 1), (usage.CapacityBytes, usage.FreeBytes, usage.UsedBytes, usage.ChunkCount));
        Assert.Single(node.StoredFiles());

        // Space freed by a delete is usable again.
        Assert.True(await node.Client.DeleteChunkAsync(node.Url, first, Ct));
        Assert.True(await node.Client.PutChunkAsync(node.Url, second, secondBytes, Ct));
    }

    [Fact]
    public async Task A_body_of_unknown_length_that_outgrows_the_capacity_is_507_and_leaves_nothing()
    {
        await using var node = NodeHost.Start(new Dictionary<string, string?> { ["Dfs:StorageNode:CapacityBytes"] = "100000" });
        var (id, bytes) = TestChunks.Random(300_000);

        using var response = await node.Http.PutAsync($"chunks/{id}", UnknownLength(bytes), Ct);

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.True(await TestChunks.EventuallyAsync(() => node.StoredFiles().Length == 0));
    }

    [Fact]
    public async Task Writes_that_would_eat_into_the_disk_reserve_are_507()
    {
        // A reserve larger than any disk: the real free space is never enough.
        await using var node = NodeHost.Start(new Dictionary<string, string?> { ["Dfs:StorageNode:ReserveBytes"] = (1L << 60).ToString() });
        var (id, bytes) = TestChunks.Random(1000);

        using var response = await node.Http.PutAsync($"chunks/{id}", TestChunks.Content(bytes), Ct);

        Assert.Equal(HttpStatusCode.InsufficientStorage, response.StatusCode);
        Assert.Empty(node.StoredFiles());
        Assert.Equal(0, (await node.Client.GetStatusAsync(node.Url, Ct)).Usage.FreeBytes);
    }

    [Fact]
    public async Task A_chunk_over_the_size_limit_is_413()
    {
        await using var node = NodeHost.Start(new Dictionary<string, string?> { ["Dfs:StorageNode:MaxChunkBytes"] = "1024" });
        var (id, bytes) = TestChunks.Random(2048);
        var (small, smallBytes) = TestChunks.Random(1024);

        using var declared = await node.Http.PutAsync($"chunks/{id}", TestChunks.Content(bytes), Ct);
        using var streamed = await node.Http.PutAsync($"chunks/{id}", UnknownLength(bytes), Ct);
        using var fits = await node.Http.PutAsync($"chunks/{small}", TestChunks.Content(smallBytes), Ct);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
        var problem = await declared.Content.ReadFromJsonAsync<ApiProblem>(DfsJson.Options, Ct);
        Assert.Contains("1024", problem?.Detail);
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
        Assert.True(await TestChunks.EventuallyAsync(() => node.StoredFiles().Length == 1));
    }

    [Fact]
    public async Task Chunks_beyond_Kestrels_default_body_limit_are_accepted()
    {
        // Kestrel refuses bodies over 30 MB unless told otherwise; the node's limit is 64 MiB.
        await using var node = NodeHost.Start();
        var (id, bytes) = TestChunks.Random(40 * 1024 * 1024);

        Assert.True(await node.Client.PutChunkAsync(node.Url, id, bytes, Ct));
        Assert.Equal(bytes.Length, (await node.Client.GetStatusAsync(node.Url, Ct)).Usage.UsedBytes);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_client_that_disconnects_mid_upload_leaves_nothing(bool reset)
    {
        await using var node = NodeHost.Start();
        var (id, _) = TestChunks.Random(16);

        using (var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await socket.ConnectAsync(node.Url.Host, node.Url.Port, Ct);
            var signature = new ClusterSignature(NodeHost.Secret).Sign("PUT", $"/chunks/{id}", DateTimeOffset.UtcNow);
            var head = $"PUT /chunks/{id} HTTP/1.1\r\nHost: {node.Url.Authority}\r\n{ClusterSignature.HeaderName}: {signature}\r\n" +
                       "Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n\r\n";
            await socket.SendAsync(Encoding.ASCII.GetBytes(head), Ct);
            await socket.SendAsync(TestChunks.RandomBytes(300_000), Ct);

            // The write is under way once its temp file exists.
            Assert.True(await TestChunks.EventuallyAsync(() => node.TempFiles().Length == 1));

            if (reset) socket.LingerState = new LingerOption(true, 0);
            else socket.Shutdown(SocketShutdown.Send);
        }

        Assert.True(await TestChunks.EventuallyAsync(() => node.StoredFiles().Length == 0), string.Join(", ", node.StoredFiles()));
        var usage = (await node.Client.GetStatusAsync(node.Url, Ct)).Usage;
        Assert.Equal(0, usage.ChunkCount);
        Assert.Equal(0, usage.UsedBytes);
        // The node still serves.
        var (other, bytes) = TestChunks.Random(1000);
        Assert.True(await node.Client.PutChunkAsync(node.Url, other, bytes, Ct));
    }

    [Fact]
    public async Task A_client_stream_that_fails_mid_upload_leaves_nothing()
    {
        await using var node = NodeHost.Start();
        var (id, bytes) = TestChunks.Random(1_000_000);
        var breakOff = new TaskCompletionSource();

        using var content = new StreamContent(new FailingStream(bytes, failAfter: 400_000, breakOff.Task));
        content.Headers.ContentLength = bytes.Length;
        var upload = node.Http.PutAsync($"chunks/{id}", content, Ct);
        Assert.True(await TestChunks.EventuallyAsync(() => node.TempFiles().Length == 1));
        breakOff.SetResult();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => upload);

        Assert.True(await TestChunks.EventuallyAsync(() => node.StoredFiles().Length == 0));
        Assert.False(await node.Client.HasChunkAsync(node.Url, id, Ct));
    }

    private static StreamContent UnknownLength(byte[] bytes)
    {
        // A non-seekable stream makes HttpClient send the body chunked, with no Content-Length.
        var content = new StreamContent(new FailingStream(bytes, failAfter: int.MaxValue));
        content.Headers.ContentType = new("application/octet-stream");
        return content;
    }

    /// <summary>Non-seekable; once <c>failAfter</c> bytes have been read, waits for <c>breakOff</c> and throws.</summary>
    private sealed class FailingStream(byte[] data, int failAfter, Task? breakOff = null) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) =>
            ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position >= failAfter)
            {
                if (breakOff is not null) await breakOff;
                throw new IOException("the source broke off");
            }
            var n = Math.Min(Math.Min(buffer.Length, data.Length - _position), Math.Min(failAfter - _position, 64 * 1024));
            data.AsMemory(_position, n).CopyTo(buffer);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
