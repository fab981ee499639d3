using System.Net;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

public sealed class InventoryAndStatusTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Inventory_pages_return_every_chunk_once_in_id_order()
    {
        await using var node = NodeHost.Start();
        var stored = new Dictionary<string, long>();
        for (var i = 0; i < 25; i++)
        {
            var (id, bytes) = TestChunks.Random(100 + i);
            await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
            stored[id] = bytes.Length;
        }

        var pages = new List<int>();
        var seen = new List<(string Id, long Size)>();
        string? after = null;
        do
        {
            var page = await node.Client.ListChunksAsync(node.Url, after, 10, Ct);
            pages.Add(page.Chunks.Count);
            seen.AddRange(page.Chunks.Select(c => (c.Id, c.Size)));
            after = page.NextAfter;
            if (after is not null) Assert.Equal(page.Chunks[^1].Id, after);
        } while (after is not null && pages.Count < 10);

        Assert.Equal([10, 10, 5], pages);
        Assert.Equal(stored.Keys.Order(StringComparer.Ordinal), seen.Select(c => c.Id));
        Assert.All(seen, c => Assert.Equal(stored[c.Id], c.Size));
    }

    [Fact]
    public async Task Inventory_has_no_next_page_when_the_last_page_is_exactly_full()
    {
        await using var node = NodeHost.Start();
        for (var i = 0; i < 4; i++)
        {
            var (id, bytes) = TestChunks.Random(10);
            await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
        }

        var all = await node.Client.ListChunksAsync(node.Url, null, 1000, Ct);
        var exact = await node.Client.ListChunksAsync(node.Url, null, 4, Ct);
        var afterLast = await node.Client.ListChunksAsync(node.Url, all.Chunks[^1].Id, 10, Ct);

        Assert.Equal(4, all.Chunks.Count);
        Assert.Null(all.NextAfter);
        Assert.Null(exact.NextAfter);
        Assert.Empty(afterLast.Chunks);
        Assert.Null(afterLast.NextAfter);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=10001")]
    [InlineData("limit=-1")]
    [InlineData("limit=ten")]
    [InlineData("after=xyz")]
    [InlineData("after=ABCDEF")]
    public async Task Inventory_refuses_bad_parameters(string query)
    {
        await using var node = NodeHost.Start();
        using var response = await node.Http.GetAsync($"chunks?{query}", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Status_counts_chunks_and_bytes_across_puts_deletes_and_restarts()
    {
        using var dataDir = new TempDir();
        Guid nodeId;
        var sizes = new[] { 1000, 2000, 3000, 4000 };
        var ids = new List<string>();

        await using (var node = NodeHost.Start(dataDir: dataDir))
        {
            var empty = await node.Client.GetStatusAsync(node.Url, Ct);
            Assert.Equal((0, 0), (empty.Usage.ChunkCount, empty.Usage.UsedBytes));
            Assert.Equal("test-node", empty.Name);
            nodeId = empty.NodeId;
            Assert.NotEqual(Guid.Empty, nodeId);

            foreach (var size in sizes)
            {
                var (id, bytes) = TestChunks.Random(size);
                await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
                ids.Add(id);
            }
            Assert.True(await node.Client.DeleteChunkAsync(node.Url, ids[1], Ct));

            var status = await node.Client.GetStatusAsync(node.Url, Ct);
            Assert.Equal((3, 8000), (status.Usage.ChunkCount, status.Usage.UsedBytes));
            Assert.True(status.Usage.CapacityBytes >= status.Usage.UsedBytes + status.Usage.FreeBytes);
        }

        // A write that was cut off by a crash leaves a temp file; the next start removes it.
        var leftover = Path.Combine(dataDir.Path, "tmp", $"{ids[1]}.crashed.tmp");
        await File.WriteAllBytesAsync(leftover, new byte[500], Ct);

        await using (var restarted = NodeHost.Start(dataDir: dataDir))
        {
            var status = await restarted.Client.GetStatusAsync(restarted.Url, Ct);
            Assert.Equal(nodeId, status.NodeId);
            Assert.Equal((3, 8000), (status.Usage.ChunkCount, status.Usage.UsedBytes));
            Assert.False(File.Exists(leftover));
            Assert.Equal(3, (await restarted.Client.ListChunksAsync(restarted.Url, null, 10, Ct)).Chunks.Count);
            Assert.True(await restarted.Client.HasChunkAsync(restarted.Url, ids[3], Ct));
        }
    }

    [Fact]
    public async Task Two_nodes_cannot_share_a_data_folder()
    {
        await using var node = NodeHost.Start();
        using var second = NodeProcess.Start(new Dictionary<string, string> { ["Dfs__StorageNode__DataDir"] = node.DataDir.Path });

        Assert.True(await second.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), second.Output);
        Assert.NotEqual(0, second.ExitCode);
        Assert.Contains("in use by another storage node", second.Output);
        // The first node is unaffected.
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("status", Ct)).StatusCode);
    }
}
