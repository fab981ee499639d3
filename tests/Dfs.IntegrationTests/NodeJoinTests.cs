using Dfs.Contracts.Api;

namespace Dfs.IntegrationTests;

[Collection(ClusterCollection.Name)]
public sealed class NodeJoinTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_started_while_the_cluster_runs_joins_and_receives_chunks_at_once()
    {
        var name = await cluster.App.AddStorageNodeAsync(Ct);

        // Registered and heartbeating (a loaded machine may delay a beat enough for "suspect"; never dead).
        var nodes = await cluster.Gateway.GetNodesAsync(Ct);
        var joined = Assert.Single(nodes, n => n.Name == name);
        Assert.Contains(joined.State, (string[])[NodeStates.Live, NodeStates.Suspect]);

        // Placement is random weighted by free space: with 40 chunks the new node gets some at once.
        var data = TestData.Random(40 * ClusterFixture.ChunkSize, 31);
        await cluster.Gateway.PutFileAsync("/join/after-join.bin", new MemoryStream(data), ct: Ct);
        var stat = await cluster.Gateway.StatAsync("/join/after-join.bin", Ct);
        Assert.Contains(stat.Chunks, c => c.Replicas.Any(r => r.NodeName == name));

        await using var download = await cluster.Gateway.GetFileAsync("/join/after-join.bin", ct: Ct);
        Assert.Equal(TestData.Sha256(data), await TestData.Sha256OfAsync(download.Content));
    }
}
