using System.Text.Json;
using Dfs.Contracts.Cluster;

namespace Dfs.Contracts.Tests;

public sealed class ClusterFileTests
{
    [Fact]
    public void Cluster_file_has_the_documented_shape_and_round_trips()
    {
        var folder = Directory.CreateTempSubdirectory("dfs-cf-");
        try
        {
            var file = new ClusterFile("local", "http://127.0.0.1:5000", null,
                [new ClusterResource("node-1", ResourceKinds.StorageNode, 123, "http://127.0.0.1:5001", "running")]);
            file.Write(folder.FullName);

            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.FullName, ClusterFile.FileName)));
            var root = json.RootElement;
            Assert.Equal("local", root.GetProperty("profile").GetString());
            Assert.Equal("http://127.0.0.1:5000", root.GetProperty("gateway").GetString());
            Assert.Equal(JsonValueKind.Null, root.GetProperty("dashboard").ValueKind);
            var node = root.GetProperty("resources")[0];
            Assert.Equal("node-1", node.GetProperty("name").GetString());
            Assert.Equal("storage-node", node.GetProperty("kind").GetString());
            Assert.Equal(123, node.GetProperty("pid").GetInt32());
            Assert.Equal("running", node.GetProperty("state").GetString());

            Assert.Equal(file.Gateway, ClusterFile.TryRead(folder.FullName)!.Gateway);
            File.WriteAllText(Path.Combine(folder.FullName, ClusterFile.FileName), "{ not json");
            Assert.Null(ClusterFile.TryRead(folder.FullName));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
