using System.Net;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;
using Dfs.Gateway.Tests.Auth;
using Dfs.Gateway.Tests.Nodes;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// GET /api/layout: the gateway decides access as for a GET, then hands out signed URLs a node accepts for that chunk only
/// and for a few minutes.
/// </summary>
public sealed class LayoutTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_layout_lists_each_chunk_with_signed_urls_on_its_holders()
    {
        await using var gateway = new GatewayFactory()
            .With("Dfs:Gateway:ChunkSizeBytes", "65536")
            .With("Dfs:Gateway:ReplicationFactor", "1")
            .With("Dfs:Gateway:DirectReadSeconds", "120")
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        await using var node = await FakeNode.StartAsync("layout-node", FakeBehaviour.Store, Ct, servesReads: true);
        gateway.StartServer();
        await node.RegisterAsync(gateway, 1L << 30, Ct);
        var admin = AuthKit.Admin(gateway);
        var data = new byte[150_000];
        new Random(5).NextBytes(data);
        var put = await admin.PutFileAsync("/direct/three-chunks.bin", new MemoryStream(data), ct: Ct);

        var before = DateTimeOffset.UtcNow;
        var layout = await admin.GetLayoutAsync("/direct/three-chunks.bin", Ct);
        Assert.Equal(("/direct/three-chunks.bin", 150_000L, put.Sha256, put.Md5), (layout.Path, layout.Size, layout.Sha256, layout.Md5));
        Assert.Equal([0L, 65_536, 131_072], layout.Chunks.Select(c => c.Offset));
        Assert.InRange(layout.ExpiresAt, before.AddSeconds(115).UtcDateTime, before.AddSeconds(125).UtcDateTime);

        var grants = new ChunkReadGrant(GatewayFactory.ClusterSecret);
        foreach (var chunk in layout.Chunks)
        {
            var url = new Uri(Assert.Single(chunk.Urls));
            Assert.Equal(new Uri(node.Url, $"chunks/{chunk.Id}").AbsolutePath, url.AbsolutePath);
            var query = System.Web.HttpUtility.ParseQueryString(url.Query);
            Assert.Equal(ChunkReadGrantStatus.Valid, grants.Verify(chunk.Id, query["expires"], query["grant"], DateTimeOffset.UtcNow));
            Assert.Equal(ChunkReadGrantStatus.Mismatch, grants.Verify(layout.Chunks.First(c => c != chunk).Id, query["expires"], query["grant"], DateTimeOffset.UtcNow));
            Assert.Equal(ChunkReadGrantStatus.Expired, grants.Verify(chunk.Id, query["expires"], query["grant"], DateTimeOffset.UtcNow.AddMinutes(3)));
            // The URL serves the chunk's bytes.
            using var http = new HttpClient();
            Assert.Equal(data.AsSpan((int)chunk.Offset, (int)chunk.Size).ToArray(), await http.GetByteArrayAsync(url, Ct));
        }
    }

    [Fact]
    public async Task Access_is_decided_first_and_a_missing_file_or_a_folder_gets_no_layout()
    {
        await using var gateway = new GatewayFactory();
        var admin = AuthKit.Admin(gateway);
        await AuthKit.PutEmptyAsync(admin, "/home/other/secret.bin");
        var bob = await AuthKit.CreateUserAsync(gateway, "bob");

        await AuthKit.ForbiddenAsync("read", "/home/other/secret.bin", () => bob.GetLayoutAsync("/home/other/secret.bin", Ct));
        await AuthKit.FailsAsync(HttpStatusCode.NotFound, () => admin.GetLayoutAsync("/home/other/missing.bin", Ct));
        await AuthKit.FailsAsync(HttpStatusCode.BadRequest, () => admin.GetLayoutAsync("/home/other", Ct));
        // An empty file has a layout without chunks.
        var empty = await admin.GetLayoutAsync("/home/other/secret.bin", Ct);
        Assert.Equal((0L, 0), (empty.Size, empty.Chunks.Count));
    }
}
