using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Dfs.Gateway.Tests.Auth;
using Dfs.Gateway.Tests.Metadata;
using Dfs.Gateway.Tests.Nodes;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// Dfs:Gateway:InlineMaxBytes on both metadata databases: a file that fits is committed with its version and read back from
/// the metadata store, no node is asked to store or serve it; one byte more and it goes to a node as before.
/// </summary>
public sealed class InlineFileTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Files_up_to_the_limit_never_reach_a_node_and_read_back_whole(string provider)
    {
        await using var gateway = (await GatewayFactory.CreateAsync(provider))
            .With("Dfs:Gateway:InlineMaxBytes", "1024")
            .With("Dfs:Gateway:ReplicationFactor", "1")
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        await using var node = await FakeNode.StartAsync("inline-node", FakeBehaviour.Store, Ct, servesReads: true);
        gateway.StartServer();
        await node.RegisterAsync(gateway, 1L << 30, Ct);
        var admin = AuthKit.Admin(gateway);

        var small = new byte[1024];
        new Random(11).NextBytes(small);
        await admin.PutFileAsync("/inline/a.bin", new MemoryStream(small), ct: Ct);
        // Overwritten by other bytes of the same size, and a second file with the first one's bytes (shared chunk).
        var other = small.Reverse().ToArray();
        await admin.PutFileAsync("/inline/a.bin", new MemoryStream(other), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
        await admin.PutFileAsync("/inline/b.bin", new MemoryStream(small), ct: Ct);
        Assert.Equal(0, node.Attempts);

        foreach (var (path, bytes) in new[] { ("/inline/a.bin", other), ("/inline/b.bin", small) })
        {
            var chunk = Assert.Single((await admin.StatAsync(path, Ct)).Chunks);
            Assert.True(chunk.Inline, path);
            Assert.Equal(ChunkIds.Compute(bytes), chunk.Id);
            await using var download = await admin.GetFileAsync(path, ct: Ct);
            using var copy = new MemoryStream();
            await download.Content.CopyToAsync(copy, Ct);
            Assert.Equal(bytes, copy.ToArray());
        }
        Assert.Equal(0, node.Reads);

        var larger = new byte[1025];
        new Random(12).NextBytes(larger);
        await admin.PutFileAsync("/inline/c.bin", new MemoryStream(larger), ct: Ct);
        var stored = Assert.Single((await admin.StatAsync("/inline/c.bin", Ct)).Chunks);
        Assert.False(stored.Inline);
        Assert.Equal(1, node.Attempts);
        Assert.Equal(larger, node.Chunks[stored.Id]);
    }
}
