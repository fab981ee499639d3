using Dfs.AppHost.Testing;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>Clusters of their own: the embedded profile, and what is left after a cluster stops.</summary>
public sealed class ProfileTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Embedded_profile_serves_a_round_trip_and_leaves_no_process_behind()
    {
        var builder = DfsTestingBuilder.Create(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 2;
            o.ChunkSizeBytes = 256 * 1024;
            o.HeartbeatIntervalMs = 300;
        });
        int[] pids;
        await using (var app = builder.Build())
        {
            await app.StartAsync(Ct);
            var gateway = new GatewayClient(app.CreateHttpClient("gateway"));
            var data = TestData.Random(1_000_000, 41);
            var put = await gateway.PutFileAsync("/embedded/file.bin", new MemoryStream(data), ct: Ct);
            Assert.Equal(4, put.ChunkCount);
            await using (var download = await gateway.GetFileAsync("/embedded/file.bin", ct: Ct))
                Assert.Equal(TestData.Sha256(data), await TestData.Sha256OfAsync(download.Content));
            pids = new[] { "gateway", "node-1", "node-2" }.Select(n => app.GetResource(n).Pid!.Value).ToArray();
            Assert.All(pids, pid => Assert.True(IsAlive(pid)));
        }
        Assert.All(pids, pid => Assert.False(IsAlive(pid), $"process {pid} outlived the cluster"));
    }

    [Fact]
    public async Task Local_profile_keeps_data_across_a_restart_of_the_whole_cluster()
    {
        var state = Directory.CreateTempSubdirectory("dfs-restart-");
        try
        {
            var data = TestData.Random(600_000, 42);
            await using (var first = Build(state.FullName))
            {
                await first.StartAsync(Ct);
                await new GatewayClient(first.CreateHttpClient("gateway")).PutFileAsync("/keep/me.bin", new MemoryStream(data), ct: Ct);
            }
            await using (var second = Build(state.FullName))
            {
                await second.StartAsync(Ct);
                await using var download = await new GatewayClient(second.CreateHttpClient("gateway")).GetFileAsync("/keep/me.bin", ct: Ct);
                Assert.Equal(TestData.Sha256(data), await TestData.Sha256OfAsync(download.Content));
            }
        }
        finally
        {
            state.Delete(recursive: true);
        }

        static DfsApplication Build(string stateDir) => DfsTestingBuilder.Create(o =>
        {
            o.Profile = "local";
            o.Nodes = 2;
            o.StateDir = stateDir;
            o.ChunkSizeBytes = 256 * 1024;
            o.HeartbeatIntervalMs = 300;
        }).Build();
    }

    [Fact]
    public async Task External_profile_runs_on_servers_started_outside_the_cluster()
    {
        // The "user's own servers": PostgreSQL and RabbitMQ started by another application model.
        var serverModel = DfsTestingBuilder.CreateEmpty();
        serverModel.AddPostgres();
        serverModel.AddRabbitMq();
        await using var external = serverModel.Build();
        await external.StartAsync(Ct);
        var metadata = external.GetConnectionString("metadata")!;
        var messaging = external.GetConnectionString("messaging")!;

        var builder = DfsTestingBuilder.Create(o =>
        {
            o.Profile = "external";
            o.MetadataConnectionString = metadata;
            o.MessagingConnectionString = messaging;
            o.Nodes = 2;
            o.ReplicationFactor = 2;
            o.ChunkSizeBytes = 256 * 1024;
            o.HeartbeatIntervalMs = 300;
            o.ReplicatorReconcileIntervalMs = 1000;
        });
        Assert.Equal("external", builder.Profile.Profile);
        // Says where the servers are, never the credentials.
        Assert.Contains("metadata in PostgreSQL 127.0.0.1:", builder.Profile.Message);
        Assert.Contains("messaging through RabbitMQ 127.0.0.1:", builder.Profile.Message);
        Assert.DoesNotContain("guest", builder.Profile.Message);
        await using var app = builder.Build();
        await app.StartAsync(Ct);
        Assert.Equal(["gateway", "node-1", "node-2", "replicator"], app.Resources.Select(r => r.Name));

        var gateway = new GatewayClient(app.CreateHttpClient("gateway"));
        var data = TestData.Random(900_000, 43);
        await gateway.PutFileAsync("/external/file.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/external/file.bin", Ct));
        // Replication goes through the external broker.
        await ReplicationTiming.WaitForCopiesAsync(gateway, "/external/file.bin", 2, TimeSpan.FromSeconds(60), Ct);
    }

    internal static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ");
}
