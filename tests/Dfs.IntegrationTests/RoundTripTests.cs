using System.Net;
using System.Net.Http.Headers;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

[Collection(ClusterCollection.Name)]
public sealed class RoundTripTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(ClusterFixture.ChunkSize)]
    [InlineData(ClusterFixture.ChunkSize + 1)]
    [InlineData(3 * ClusterFixture.ChunkSize - 7)]
    public async Task Files_round_trip_byte_for_byte(long size)
    {
        var data = TestData.Random(size, (int)size);
        var path = $"/roundtrip/size-{size}.bin";

        var put = await cluster.Gateway.PutFileAsync(path, new MemoryStream(data), new PutFileOptions(Md5Hex: TestData.Md5(data)), Ct);
        Assert.Equal(size, put.Size);
        Assert.Equal(TestData.Md5(data), put.Md5);
        Assert.Equal(TestData.Sha256(data), put.Sha256);
        Assert.Equal((int)Math.Ceiling(size / (double)ClusterFixture.ChunkSize), put.ChunkCount);

        await using var download = await cluster.Gateway.GetFileAsync(path, ct: Ct);
        var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy, Ct);
        Assert.Equal(data, copy.ToArray());
        Assert.Equal(put.Md5, download.Md5Hex);
        Assert.Equal(put.Sha256, download.Sha256Hex);

        var stat = await cluster.Gateway.StatAsync(path, Ct);
        Assert.Equal(put.ChunkCount, stat.Chunks.Count);
        Assert.All(stat.Chunks, c => Assert.NotEmpty(c.Replicas));
        Assert.Equal(size, stat.Chunks.Sum(c => c.Size));
    }

    [Fact]
    public async Task A_100_MiB_file_streams_through_and_back()
    {
        const long size = 100L * 1024 * 1024;
        var source = new TestData.RandomStream(size, 100);
        var expected = TestData.Sha256Of(new TestData.RandomStream(size, 100));

        var put = await cluster.Gateway.PutFileAsync("/big/100mib.bin", source, ct: Ct);
        Assert.Equal(expected, put.Sha256);
        Assert.Equal(100, put.ChunkCount);

        await using var download = await cluster.Gateway.GetFileAsync("/big/100mib.bin", ct: Ct);
        Assert.Equal(size, download.Length);
        Assert.Equal(expected, await TestData.Sha256OfAsync(download.Content));
    }

    [Theory]
    [InlineData("/names/日本語/ファイル.txt")]
    [InlineData("/names/emoji 🚀 and spaces.bin")]
    [InlineData("/names/percent%20and+plus&amp;?#.txt")]
    [InlineData("/names/Ελληνικά/ünïcödé")]
    public async Task Utf8_and_odd_names_round_trip(string path)
    {
        var data = TestData.Random(1234, path.Length);
        var put = await cluster.Gateway.PutFileAsync(path, new MemoryStream(data), ct: Ct);
        Assert.Equal(path, put.Path);

        await using var download = await cluster.Gateway.GetFileAsync(path, ct: Ct);
        var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy, Ct);
        Assert.Equal(data, copy.ToArray());

        var parent = path[..path.LastIndexOf('/')];
        var listing = await cluster.Gateway.ListAsync(parent, ct: Ct);
        Assert.Contains(listing.Entries, e => e.Path == path && e.Kind == EntryKind.File && e.Size == data.Length);
    }

    [Fact]
    public async Task Range_reads_cross_chunk_boundaries()
    {
        var data = TestData.Random(2 * ClusterFixture.ChunkSize + 100, 7);
        await cluster.Gateway.PutFileAsync("/ranges/file.bin", new MemoryStream(data), ct: Ct);

        foreach (var (from, to) in new (long, long?)[] { (0, 0), (ClusterFixture.ChunkSize - 10, ClusterFixture.ChunkSize + 10), (5, null), (data.Length - 1, null) })
        {
            await using var part = await cluster.Gateway.GetFileAsync("/ranges/file.bin", new ByteRange(from, to), Ct);
            Assert.True(part.IsPartial);
            var copy = new MemoryStream();
            await part.Content.CopyToAsync(copy, Ct);
            var end = (int)(to ?? data.Length - 1);
            Assert.Equal(data[(int)from..(end + 1)], copy.ToArray());
        }

        using var suffix = new HttpRequestMessage(HttpMethod.Get, "/api/files/ranges/file.bin");
        suffix.Headers.Range = new RangeHeaderValue(null, 50);
        using var suffixResponse = await cluster.Http.SendAsync(suffix, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, suffixResponse.StatusCode);
        Assert.Equal(data[^50..], await suffixResponse.Content.ReadAsByteArrayAsync(Ct));

        using var beyond = new HttpRequestMessage(HttpMethod.Get, "/api/files/ranges/file.bin");
        beyond.Headers.Range = new RangeHeaderValue(data.Length, null);
        using var beyondResponse = await cluster.Http.SendAsync(beyond, Ct);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, beyondResponse.StatusCode);

        using var head = new HttpRequestMessage(HttpMethod.Head, "/api/files/ranges/file.bin");
        using var headResponse = await cluster.Http.SendAsync(head, Ct);
        Assert.Equal(data.Length, headResponse.Content.Headers.ContentLength);
        Assert.Equal($"\"{TestData.Md5(data)}\"", headResponse.Headers.ETag!.Tag);
    }

    [Fact]
    public async Task Directories_list_move_and_delete()
    {
        var g = cluster.Gateway;
        await g.MkdirAsync("/ns/a/b", parents: true, Ct);
        for (var i = 0; i < 5; i++) await g.PutFileAsync($"/ns/a/b/f{i}.txt", new MemoryStream([(byte)i]), ct: Ct);

        var paged = new List<string>();
        string? cursor = null;
        do
        {
            var page = await g.ListAsync("/ns/a/b", cursor, 2, Ct);
            paged.AddRange(page.Entries.Select(e => e.Name));
            cursor = page.NextCursor;
        } while (cursor is not null);
        Assert.Equal(["f0.txt", "f1.txt", "f2.txt", "f3.txt", "f4.txt"], paged);

        await g.MoveAsync("/ns/a", "/ns/moved", Ct);
        await using (var moved = await g.GetFileAsync("/ns/moved/b/f3.txt", ct: Ct))
        {
            var copy = new MemoryStream();
            await moved.Content.CopyToAsync(copy, Ct);
            Assert.Equal([3], copy.ToArray());
        }
        var gone = await Assert.ThrowsAsync<DfsApiException>(() => g.StatAsync("/ns/a/b/f3.txt", Ct));
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        var notEmpty = await Assert.ThrowsAsync<DfsApiException>(() => g.DeleteAsync("/ns/moved", recursive: false, Ct));
        Assert.Equal(HttpStatusCode.Conflict, notEmpty.StatusCode);
        await g.DeleteAsync("/ns/moved", recursive: true, Ct);
        Assert.Empty((await g.ListAsync("/ns", ct: Ct)).Entries);
    }

    [Fact]
    public async Task Conflict_policies_fail_overwrite_and_rename()
    {
        var g = cluster.Gateway;
        await g.PutFileAsync("/conflict/x.txt", new MemoryStream("one"u8.ToArray()), ct: Ct);
        var clash = await Assert.ThrowsAsync<DfsApiException>(() => g.PutFileAsync("/conflict/x.txt", new MemoryStream("two"u8.ToArray()), ct: Ct));
        Assert.Equal(HttpStatusCode.Conflict, clash.StatusCode);

        var over = await g.PutFileAsync("/conflict/x.txt", new MemoryStream("three"u8.ToArray()), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
        Assert.Equal(2, over.Version);
        var renamed = await g.PutFileAsync("/conflict/x.txt", new MemoryStream("four"u8.ToArray()), new PutFileOptions(ConflictPolicy.Rename), Ct);
        Assert.True(renamed.Renamed);
        Assert.Equal("/conflict/x (1).txt", renamed.Path);

        await using var current = await g.GetFileAsync("/conflict/x.txt", ct: Ct);
        Assert.Equal("three", await new StreamReader(current.Content).ReadToEndAsync(Ct));
        Assert.Equal(2, current.Version);
    }

    [Fact]
    public async Task Nodes_and_cluster_summary_report_the_running_nodes()
    {
        var nodes = await cluster.Gateway.GetNodesAsync(Ct);
        Assert.True(nodes.Count >= 3);
        Assert.All(nodes.Where(n => n.Name is "node-1" or "node-2" or "node-3"), n =>
        {
            Assert.Equal(NodeStates.Live, n.State);
            Assert.True(n.CapacityBytes > 0);
            Assert.True(n.LastHeartbeatAt > DateTime.UtcNow.AddMinutes(-1));
        });
        var summary = await cluster.Gateway.GetClusterAsync(Ct);
        Assert.True(summary.LiveNodes >= 3);
        Assert.Equal(ClusterFixture.ChunkSize, summary.ChunkSize);
    }
}
