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

    [Fact]
    public void Reading_ignores_unknown_fields_and_takes_missing_ones_as_empty()
    {
        var folder = Directory.CreateTempSubdirectory("dfs-cf-");
        try
        {
            // As an Aspire AppHost may write it: no dashboardToken, new kinds, Aspire's states, fields this reader does not know.
            File.WriteAllText(Path.Combine(folder.FullName, ClusterFile.FileName), """
                {
                  "profile": "local",
                  "gateway": "http://127.0.0.1:5000",
                  "dashboard": "https://localhost:17000",
                  "aspireVersion": "13.0",
                  "resources": [
                    { "name": "redis", "kind": "redis", "pid": null, "url": null, "state": "Running", "health": "Healthy" },
                    { "name": "node-1", "kind": "storage-node", "pid": "4242", "url": "http://127.0.0.1:5001", "state": "Exited", "exitCode": 1 },
                    { "name": "setup", "kind": "executable" },
                    null
                  ]
                }
                """);
            var file = ClusterFile.Read(folder.FullName)!;
            Assert.Equal(("local", "http://127.0.0.1:5000", "https://localhost:17000", null, null), (file.Profile, file.Gateway, file.Dashboard, file.DashboardToken, file.AdminUser));
            Assert.Equal(
                [new ClusterResource("redis", ResourceKinds.Redis, null, null, ResourceStates.Running),
                 new ClusterResource("node-1", ResourceKinds.StorageNode, 4242, "http://127.0.0.1:5001", ResourceStates.Exited),
                 new ClusterResource("setup", "executable", null, null, "")],
                file.Resources);
            Assert.True(ResourceStates.IsRunning(file.Resources[0].State));
            Assert.True(ResourceStates.IsRunning("running"));
            Assert.True(ResourceStates.IsFailed(file.Resources[1].State));
            Assert.False(ResourceStates.IsFailed(ResourceStates.Finished));

            File.WriteAllText(Path.Combine(folder.FullName, ClusterFile.FileName), """{ "gateway": "http://127.0.0.1:5000" }""");
            var bare = ClusterFile.Read(folder.FullName)!;
            Assert.Equal(("", "http://127.0.0.1:5000"), (bare.Profile, bare.Gateway));
            Assert.Empty(bare.Resources);

            File.WriteAllText(Path.Combine(folder.FullName, ClusterFile.FileName), "[1, 2]");
            Assert.Throws<JsonException>(() => ClusterFile.Read(folder.FullName));
            Assert.Null(ClusterFile.TryRead(folder.FullName));

            File.Delete(Path.Combine(folder.FullName, ClusterFile.FileName));
            Assert.Null(ClusterFile.Read(folder.FullName));
            Assert.Null(ClusterFile.Read(Path.Combine(folder.FullName, "no-such-folder")));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void The_admin_user_round_trips_and_the_admin_password_lives_in_the_gateway_folder()
    {
        var folder = Directory.CreateTempSubdirectory("dfs-cf-");
        try
        {
            new ClusterFile("local", "http://127.0.0.1:5000", null, [], AdminUser: "root").Write(folder.FullName);
            Assert.Equal("root", ClusterFile.Read(folder.FullName)!.AdminUser);

            Assert.Equal(Path.Combine(folder.FullName, "gateway", "admin-password"), AdminPasswordFile.PathIn(folder.FullName));
            Assert.Null(AdminPasswordFile.TryRead(folder.FullName));
            Directory.CreateDirectory(Path.Combine(folder.FullName, "gateway"));
            File.WriteAllText(AdminPasswordFile.PathIn(folder.FullName), "  \n");
            Assert.Null(AdminPasswordFile.TryRead(folder.FullName));
            File.WriteAllText(AdminPasswordFile.PathIn(folder.FullName), "s3cret-Passw0rd\n");
            Assert.Equal("s3cret-Passw0rd", AdminPasswordFile.TryRead(folder.FullName));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
