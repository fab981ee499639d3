using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>A replication factor above the node count: the write succeeds, and the shortfall is reported, not queued as work.</summary>
[Collection(ReplicationCollection.Name)]
public sealed class ReplicationReportTests(ReplicationFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_factor_above_the_node_count_is_stored_on_every_node_and_reported_under_replicated_but_not_as_backlog()
    {
        const string path = "/rep/report/nine.bin";
        const int factor = 9; // the gateway accepts 1 to 16; the fixture has 4 nodes
        var data = TestData.Random(2 * ReplicationFixture.ChunkSize + 10, 81);
        try
        {
            var stored = await cluster.Gateway.PutFileAsync(path, new MemoryStream(data), new PutFileOptions(ReplicationFactor: factor), Ct);
            Assert.Equal(data.Length, stored.Size);

            var nodes = (await cluster.Gateway.GetNodesAsync(Ct)).Count(n => n.State == NodeStates.Live);
            Assert.True(nodes is > 1 and < factor, $"{nodes} live nodes");
            // Every node gets a copy, and no chunk gets more copies than there are nodes.
            var stat = await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, path, nodes, TimeSpan.FromSeconds(30), Ct);
            Assert.All(stat.Chunks, c => Assert.Equal(nodes, c.Replicas.Select(r => r.NodeId).Distinct().Count()));

            // Other tests share the cluster, so only relations are asserted: this file's chunks are below their factor
            // (under-replicated) with nothing the Replicator could do about them (not backlog), whatever else is going on.
            using var http = cluster.App.CreateGatewayClient();
            var status = await http.GetFromJsonAsync<ReplicationStatus>(ApiRoutes.Replication, DfsJson.Options, Ct);
            Assert.NotNull(status);
            Assert.True(status.UnderReplicatedChunks >= stat.Chunks.Count, $"under-replicated {status.UnderReplicatedChunks}");
            Assert.True(status.UnderReplicatedChunks - status.RepairableChunks >= stat.Chunks.Count,
                $"under-replicated {status.UnderReplicatedChunks}, repairable {status.RepairableChunks}");
            Assert.True(status.RepairableChunks < status.UnderReplicatedChunks);
        }
        finally
        {
            await cluster.Gateway.DeleteAsync(path, recursive: false, Ct);
        }
    }
}
