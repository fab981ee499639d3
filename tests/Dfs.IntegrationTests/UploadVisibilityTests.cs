using System.Net;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;

namespace Dfs.IntegrationTests;

/// <summary>An upload is invisible until it commits: no name, no bytes, no parent folder, no new version.</summary>
[Collection(ClusterCollection.Name)]
public sealed class UploadVisibilityTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Nothing_of_an_upload_in_flight_is_visible_and_all_of_it_is_once_the_body_completes()
    {
        const long chunk = ClusterFixture.ChunkSize;
        await cluster.Gateway.MkdirAsync("/inflight", parents: true, Ct);
        var old = TestData.Random(1000, 31);
        await cluster.Gateway.PutFileAsync("/inflight/replaced.bin", new MemoryStream(old), ct: Ct);

        // Three uploads each send two whole chunks and a few bytes, then hold the rest back: a new file in an
        // existing folder, a new file whose folder does not exist yet, and an overwrite of an existing file.
        var fresh = TestData.Random(3 * chunk + 100, 32);
        var nested = TestData.Random(2 * chunk + 300, 33);
        var overwrite = TestData.Random(2 * chunk + 500, 34);
        await using var putFresh = GatedUpload.Start(cluster.Gateway, "/inflight/fresh.bin", fresh, 2 * chunk + 17, ConflictPolicy.Fail);
        await using var putNested = GatedUpload.Start(cluster.Gateway, "/inflight/new-dir/nested.bin", nested, 2 * chunk + 17, ConflictPolicy.Fail);
        await using var putOverwrite = GatedUpload.Start(cluster.Gateway, "/inflight/replaced.bin", overwrite, 2 * chunk + 17, ConflictPolicy.Overwrite);

        // The gateway is really mid-upload: the chunks it read so far are stored on the nodes.
        var sentChunks = new[] { fresh, nested, overwrite }
            .SelectMany(d => Enumerable.Range(0, 2).Select(i => ChunkIds.Compute(d.AsSpan((int)(i * chunk), (int)chunk)))).ToList();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!sentChunks.All(IsOnSomeNode))
        {
            Assert.True(DateTime.UtcNow < deadline, "the uploads' first chunks never reached a node");
            Assert.False(putFresh.Completion.IsCompleted || putNested.Completion.IsCompleted || putOverwrite.Completion.IsCompleted,
                "an upload ended before its body was complete");
            await Task.Delay(100, Ct);
        }

        await AssertAbsentAsync("/inflight/fresh.bin");
        await AssertAbsentAsync("/inflight/new-dir/nested.bin");
        await AssertAbsentAsync("/inflight/new-dir");
        var listing = await cluster.Gateway.ListAsync("/inflight", ct: Ct);
        Assert.DoesNotContain(listing.Entries, e => e.Name is "fresh.bin" or "new-dir");
        Assert.Equal(1, Assert.Single(listing.Entries, e => e.Name == "replaced.bin").Version);
        var missingParent = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.ListAsync("/inflight/new-dir", ct: Ct));
        Assert.Equal(HttpStatusCode.NotFound, missingParent.StatusCode);
        // The file being overwritten is still the old version, bytes and all.
        var stat = await cluster.Gateway.StatAsync("/inflight/replaced.bin", Ct);
        Assert.Equal(1, stat.Version);
        Assert.Equal(old.Length, stat.Size);
        Assert.Equal(TestData.Sha256(old), await cluster.Gateway.DownloadSha256Async("/inflight/replaced.bin", Ct));
        Assert.Equal(old.Length, await HeadLengthAsync("/inflight/replaced.bin"));

        putFresh.Release();
        putNested.Release();
        putOverwrite.Release();
        Assert.Equal(1, (await putFresh.Completion).Version);
        Assert.Equal(1, (await putNested.Completion).Version);
        Assert.Equal(2, (await putOverwrite.Completion).Version);

        foreach (var (path, data) in new[] { ("/inflight/fresh.bin", fresh), ("/inflight/new-dir/nested.bin", nested), ("/inflight/replaced.bin", overwrite) })
        {
            Assert.Equal(data.Length, (await cluster.Gateway.StatAsync(path, Ct)).Size);
            Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async(path, Ct));
            Assert.Equal(data.Length, await HeadLengthAsync(path));
        }
        Assert.Contains((await cluster.Gateway.ListAsync("/inflight", ct: Ct)).Entries, e => e.Name == "fresh.bin");
        Assert.Contains((await cluster.Gateway.ListAsync("/inflight/new-dir", ct: Ct)).Entries, e => e.Name == "nested.bin");
    }

    private bool IsOnSomeNode(string chunkId) => cluster.App.StorageNodes.Any(node => File.Exists(cluster.App.ChunkFilePath(node, chunkId)));

    private async Task AssertAbsentAsync(string path)
    {
        var stat = await Assert.ThrowsAsync<DfsApiException>(() => cluster.Gateway.StatAsync(path, Ct));
        Assert.Equal(HttpStatusCode.NotFound, stat.StatusCode);
        using (var get = await cluster.Http.GetAsync($"{ApiRoutes.Files}{path}", HttpCompletionOption.ResponseHeadersRead, Ct))
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        using var head = await cluster.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{ApiRoutes.Files}{path}"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, head.StatusCode);
    }

    private async Task<long?> HeadLengthAsync(string path)
    {
        using var head = await cluster.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"{ApiRoutes.Files}{path}"), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        return head.Content.Headers.ContentLength;
    }

    /// <summary>A PUT whose body stops after <c>gateAt</c> bytes until released; the connection stays open meanwhile.</summary>
    private sealed class GatedUpload : IAsyncDisposable
    {
        private readonly GatedStream _body;
        public Task<PutFileResult> Completion { get; }

        private GatedUpload(IGatewayApi gateway, string path, byte[] data, long gateAt, ConflictPolicy conflict)
        {
            _body = new GatedStream(data, gateAt);
            Completion = gateway.PutFileAsync(path, _body, new PutFileOptions(conflict), Ct);
        }

        public static GatedUpload Start(IGatewayApi gateway, string path, byte[] data, long gateAt, ConflictPolicy conflict) =>
            new(gateway, path, data, gateAt, conflict);

        public void Release() => _body.Gate.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            // A failed assertion must not leave the request hanging: let it finish (or fail) before the test ends.
            Release();
            await Completion.ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>Not seekable, so the body goes out chunked as it is read and the gateway sees it arrive in parts.</summary>
    private sealed class GatedStream(byte[] data, long gateAt) : Stream
    {
        private long _position;
        public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_position == gateAt) await Gate.Task.WaitAsync(cancellationToken);
            var end = _position < gateAt ? gateAt : data.Length;
            var n = (int)Math.Min(buffer.Length, end - _position);
            data.AsSpan((int)_position, n).CopyTo(buffer.Span);
            _position += n;
            return n;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
