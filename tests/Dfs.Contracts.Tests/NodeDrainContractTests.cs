using System.Text.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Tests;

/// <summary>The drain additions keep the wire format readable both ways.</summary>
public sealed class NodeDrainContractTests
{
    [Fact]
    public void Json_without_the_new_fields_still_reads_and_means_not_draining()
    {
        var node = JsonSerializer.Deserialize<NodeInfo>(
            """{"id":"5d1f8c2e-0000-4000-8000-000000000001","name":"node-1","url":"http://127.0.0.1:1","state":"live","capacityBytes":10,"freeBytes":5,"usedBytes":5,"chunkCount":1,"registeredAt":"2026-11-22T00:00:00Z","lastHeartbeatAt":"2026-11-22T00:00:01Z"}""",
            DfsJson.Options)!;
        Assert.False(node.Draining);

        var work = JsonSerializer.Deserialize<ChunkWork>("""{"chunkId":"ab","size":1,"wanted":3,"holders":[]}""", DfsJson.Options)!;
        Assert.Null(work.DrainingHolders);
    }

    [Fact]
    public void Draining_fields_round_trip()
    {
        var holder = Guid.NewGuid();
        var work = new ChunkWork("ab", 1, 3, [], [holder]);
        var json = JsonSerializer.Serialize(work, DfsJson.Options);
        Assert.Contains("\"drainingHolders\"", json);
        Assert.Equal([holder], JsonSerializer.Deserialize<ChunkWork>(json, DfsJson.Options)!.DrainingHolders!);

        var status = new NodeDrainStatus(holder, "node-1", true, 10, 0, true);
        Assert.Equal(status, JsonSerializer.Deserialize<NodeDrainStatus>(JsonSerializer.Serialize(status, DfsJson.Options), DfsJson.Options));
    }

    [Theory]
    [InlineData("node-1", "/api/nodes/node-1/drain", "/api/nodes/node-1")]
    [InlineData("a b/c", "/api/nodes/a%20b%2Fc/drain", "/api/nodes/a%20b%2Fc")]
    public void Node_routes_escape_the_name(string node, string drain, string remove)
    {
        Assert.Equal(drain, ApiRoutes.NodeDrain(node));
        Assert.Equal(remove, ApiRoutes.Node(node));
    }
}
