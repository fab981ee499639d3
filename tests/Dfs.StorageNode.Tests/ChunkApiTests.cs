using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

public sealed class ChunkApiTests : IAsyncLifetime
{
    private NodeHost _node = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public ValueTask InitializeAsync()
    {
        _node = NodeHost.Start();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    [Fact]
    public async Task Put_then_get_returns_the_same_bytes()
    {
        var (id, bytes) = TestChunks.Random(300_000);

        Assert.True(await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct));

        var buffer = new byte[bytes.Length];
        var read = await _node.Client.ReadChunkAsync(_node.Url, id, buffer, Ct);
        Assert.Equal(bytes.Length, read);
        Assert.Equal(bytes, buffer);

        using var response = await _node.Http.GetAsync($"chunks/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
        Assert.Equal(bytes, await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.True(File.Exists(Path.Combine(_node.ChunksDir, id[..2], id[2..4], id)));
    }

    [Fact]
    public async Task Put_from_a_stream_of_known_length_is_stored()
    {
        var (id, bytes) = TestChunks.Random(200_000);
        Assert.True(await _node.Client.PutChunkAsync(_node.Url, id, new MemoryStream(bytes), bytes.Length, Ct));
        Assert.True(await _node.Client.HasChunkAsync(_node.Url, id, Ct));
    }

    [Fact]
    public async Task Get_with_a_range_returns_exactly_those_bytes()
    {
        var (id, bytes) = TestChunks.Random(10_000);
        await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"chunks/{id}");
        request.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var response = await _node.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(bytes[1000..2000], await response.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal(new ContentRangeHeaderValue(1000, 1999, 10_000), response.Content.Headers.ContentRange);

        await using var tail = await _node.Client.OpenChunkAsync(_node.Url, id, 9_990, null, Ct);
        var copy = new MemoryStream();
        await tail.CopyToAsync(copy, Ct);
        Assert.Equal(bytes[9_990..], copy.ToArray());
    }

    [Fact]
    public async Task Get_with_a_range_beyond_the_end_is_416()
    {
        var (id, bytes) = TestChunks.Random(1000);
        await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"chunks/{id}");
        request.Headers.Range = new RangeHeaderValue(5000, 6000);
        using var response = await _node.Http.SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, response.StatusCode);
        Assert.Equal("bytes */1000", response.Content.Headers.ContentRange?.ToString());
    }

    [Fact]
    public async Task Head_gives_the_length_without_a_body()
    {
        var (id, bytes) = TestChunks.Random(12_345);
        await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct);

        using var response = await _node.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"chunks/{id}"), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(12_345, response.Content.Headers.ContentLength);
        Assert.Equal("application/octet-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));

        var (absent, _) = TestChunks.Random(10);
        using var missing = await _node.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, $"chunks/{absent}"), Ct);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.False(await _node.Client.HasChunkAsync(_node.Url, absent, Ct));
    }

    [Fact]
    public async Task Putting_a_chunk_twice_is_a_200_no_op()
    {
        var (id, bytes) = TestChunks.Random(50_000);

        using var first = await _node.Http.PutAsync($"chunks/{id}", TestChunks.Content(bytes), Ct);
        using var second = await _node.Http.PutAsync($"chunks/{id}", TestChunks.Content(bytes), Ct);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.False(await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct));
        var status = await _node.Client.GetStatusAsync(_node.Url, Ct);
        Assert.Equal(1, status.Usage.ChunkCount);
        Assert.Equal(bytes.Length, status.Usage.UsedBytes);
        Assert.Single(_node.StoredFiles());
    }

    [Fact]
    public async Task Delete_then_get_is_404()
    {
        var (id, bytes) = TestChunks.Random(1000);
        await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct);

        Assert.True(await _node.Client.DeleteChunkAsync(_node.Url, id, Ct));

        using var response = await _node.Http.GetAsync($"chunks/{id}", Ct);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(DfsJson.Options, Ct);
        Assert.Contains(id, problem?.Detail);
        Assert.False(await _node.Client.DeleteChunkAsync(_node.Url, id, Ct));
        var error = await Assert.ThrowsAsync<StorageNodeException>(() => _node.Client.ReadChunkAsync(_node.Url, id, new byte[1000], Ct));
        Assert.Equal(StorageFailureKind.NotFound, error.Kind);
        Assert.Empty(_node.StoredFiles());
    }

    [Fact]
    public async Task Bytes_that_do_not_hash_to_the_id_are_refused_and_leave_nothing()
    {
        var (id, _) = TestChunks.Random(100_000);
        var other = TestChunks.RandomBytes(100_000);

        using var response = await _node.Http.PutAsync($"chunks/{id}", TestChunks.Content(other), Ct);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(DfsJson.Options, Ct);
        Assert.Contains("do not hash to the id", problem?.Detail);
        Assert.Empty(_node.StoredFiles());
        var error = await Assert.ThrowsAsync<StorageNodeException>(() => _node.Client.PutChunkAsync(_node.Url, id, other, Ct));
        Assert.Equal(StorageFailureKind.IntegrityRejected, error.Kind);
        Assert.Equal(0, (await _node.Client.GetStatusAsync(_node.Url, Ct)).Usage.ChunkCount);
    }

    public static TheoryData<string> BadIds => new()
    {
        "abc",
        new string('A', 64),
        new string('g', 64),
        new string('a', 63),
        new string('a', 65),
        "..%2f..",
        "..%2F..%2Fnode-id",
        "%2e%2e%2fnode-id",
    };

    [Theory]
    [MemberData(nameof(BadIds))]
    public async Task Bad_ids_are_400_and_nothing_is_written(string badId)
    {
        var bytes = TestChunks.RandomBytes(100);
        var uri = new Uri($"chunks/{badId}", UriKind.Relative);

        using var put = await _node.Http.PutAsync(uri, TestChunks.Content(bytes), Ct);
        using var get = await _node.Http.GetAsync(uri, Ct);
        using var delete = await _node.Http.DeleteAsync(uri, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, get.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, delete.StatusCode);
        Assert.Equal("application/problem+json", put.Content.Headers.ContentType?.MediaType);
        Assert.Empty(_node.StoredFiles());
        Assert.True(File.Exists(Path.Combine(_node.DataDir.Path, "node-id")));
    }

    [Fact]
    public async Task Concurrent_puts_of_one_chunk_store_it_once()
    {
        // Several rounds: the race between two writers finishing at the same moment is narrow.
        var ids = new List<string>();
        long used = 0;
        for (var round = 0; round < 5; round++)
        {
            var (id, bytes) = TestChunks.Random(256 * 1024);
            var statuses = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                using var response = await _node.Http.PutAsync($"chunks/{id}", TestChunks.Content(bytes), Ct);
                return response.StatusCode;
            }));

            Assert.All(statuses, s => Assert.Contains(s, new[] { HttpStatusCode.Created, HttpStatusCode.OK }));
            Assert.Equal(1, statuses.Count(s => s == HttpStatusCode.Created));
            var buffer = new byte[bytes.Length];
            await _node.Client.ReadChunkAsync(_node.Url, id, buffer, Ct);
            Assert.Equal(bytes, buffer);
            ids.Add(id);
            used += bytes.Length;
        }

        var status = await _node.Client.GetStatusAsync(_node.Url, Ct);
        Assert.Equal(5, status.Usage.ChunkCount);
        Assert.Equal(used, status.Usage.UsedBytes);
        Assert.Equal(ids.Select(id => Path.Combine(_node.ChunksDir, id[..2], id[2..4], id)).Order(), _node.StoredFiles().Order());
    }

    [Fact]
    public async Task Concurrent_deletes_of_one_chunk_delete_it_once()
    {
        var (id, bytes) = TestChunks.Random(1000);
        await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct);

        var deleted = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => _node.Client.DeleteChunkAsync(_node.Url, id, Ct)));

        Assert.Equal(1, deleted.Count(d => d));
        var status = await _node.Client.GetStatusAsync(_node.Url, Ct);
        Assert.Equal((0, 0), (status.Usage.ChunkCount, status.Usage.UsedBytes));
        Assert.Empty(_node.StoredFiles());
    }
}
