using Aspire.Hosting.ApplicationModel;
using Dfs.AppHost.Cluster;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Clients;
using Dfs.IntegrationTests.Support;

namespace Dfs.IntegrationTests;

/// <summary>Clusters of their own in each profile: embedded, local across a restart of the whole AppHost, external servers.</summary>
public sealed class ProfileTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Embedded_profile_runs_on_sqlite_without_servers_serves_a_round_trip_and_leaves_nothing_behind()
    {
        int[] pids;
        string state;
        await using (var app = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 2;
            o.ChunkSizeBytes = 256 * 1024;
        }, Ct))
        {
            state = app.StateDirectory;
            // SQLite in the gateway's folder; no messaging, no cache, no server process at all; the Replicator runs in the gateway.
            Assert.Equal("embedded", app.Cluster.Profile.Profile);
            Assert.Equal($"Data Source={Path.Combine(state, "gateway", "dfs.db")}", await app.GetConnectionStringAsync(DfsCluster.MetadataName, Ct));
            Assert.DoesNotContain(app.Model.Resources, r => r.Name is DfsCluster.MessagingName or DfsCluster.CacheName or DfsCluster.ReplicatorName);
            Assert.DoesNotContain(app.Model.Resources, IsServer);
            Assert.Equal(["gateway", "node-1", "node-2"], app.Model.Resources.OfType<ProjectResource>().Select(r => r.Name).Order(StringComparer.Ordinal));

            var gateway = app.CreateGateway();
            var data = TestData.Random(1_000_000, 41);
            var put = await gateway.PutFileAsync("/embedded/file.bin", new MemoryStream(data), ct: Ct);
            Assert.Equal(4, put.ChunkCount);
            Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/embedded/file.bin", Ct));
            Assert.True(File.Exists(Path.Combine(state, "gateway", "dfs.db")));

            // The services, and DCP's `dotnet run` around each of them (which carries the services' environment, state folder included).
            var services = new[] { "gateway", "node-1", "node-2" }.Select(n => app.ProcessId(n)!.Value).ToList();
            pids = [.. services.Concat(Procs.FindMentioning(state)).Distinct()];
            Assert.All(services, pid => Assert.True(Procs.IsAlive(pid)));
            var running = pids.Select(Procs.Describe).ToList();
            Assert.True(pids.Length >= 2 * services.Count, string.Join("\n", running));
            Assert.All(running, p => Assert.Matches(@"^\d+ (dotnet|Dfs\.Gateway|Dfs\.StorageNo\w*): ", p));
        }
        await Procs.AssertAllGoneAsync(pids, TimeSpan.FromSeconds(10));
        Assert.Empty(Procs.Mentioning(state));
        Assert.False(Directory.Exists(state), $"{state} outlived the cluster");
    }

    [Fact]
    public async Task Local_profile_keeps_data_across_a_restart_of_the_whole_apphost_on_the_same_state_folder()
    {
        var state = DfsTestCluster.NewStateDirectory();
        try
        {
            var data = TestData.Random(600_000, 42);
            await using (var first = await StartLocalAsync(state))
            {
                await first.CreateGateway().PutFileAsync("/keep/me.bin", new MemoryStream(data), ct: Ct);
            }
            // The first AppHost stopped PostgreSQL cleanly: the second one starts without crash recovery.
            Assert.Contains("Database cluster state:               shut down", await PostgresControlDataAsync(Path.Combine(state, "metadata", "data")));

            await using var second = await StartLocalAsync(state);
            var gateway = second.CreateGateway();
            Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/keep/me.bin", Ct));
            // Same nodes, same data folders: the chunks were never copied anywhere else.
            Assert.All((await gateway.StatAsync("/keep/me.bin", Ct)).Chunks,
                c => Assert.All(c.Replicas, r => Assert.True(File.Exists(second.ChunkFilePath(r.NodeName, c.Id)))));
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }

        static Task<DfsTestCluster> StartLocalAsync(string state) => DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 2;
            o.StateDirectory = state;
            o.ChunkSizeBytes = 256 * 1024;
        }, Ct);
    }

    [Fact]
    public async Task External_profile_runs_on_servers_started_outside_the_cluster()
    {
        // The "user's own servers": PostgreSQL, RabbitMQ and Redis, each run alone by the AppHost's hosting integration.
        var starting = new[] { DfsServer.StartPostgresAsync(Ct), DfsServer.StartRabbitMqAsync(Ct), DfsServer.StartRedisAsync(Ct) };
        DfsServer[] servers;
        try
        {
            servers = await Task.WhenAll(starting);
        }
        catch
        {
            // One did not start: the others must not outlive the test.
            foreach (var started in starting.Where(s => s.IsCompletedSuccessfully)) await (await started).DisposeAsync();
            throw;
        }
        await using var metadata = servers[0];
        await using var messaging = servers[1];
        await using var cache = servers[2];

        await using var app = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "external";
            o.ExtraArguments.AddRange(["--metadata", metadata.ConnectionString, "--messaging", messaging.ConnectionString, "--cache", cache.ConnectionString]);
            o.Nodes = 2;
            o.ReplicationFactor = 2;
            o.ChunkSizeBytes = 256 * 1024;
            o.ReconcileIntervalMs = 1000;
        }, Ct);
        var profile = app.Cluster.Profile;
        Assert.Equal("external", profile.Profile);
        // Says where the servers are, never the credentials.
        Assert.Contains("metadata in PostgreSQL 127.0.0.1:", profile.Message);
        Assert.Contains("messaging through RabbitMQ 127.0.0.1:", profile.Message);
        Assert.Contains("cache in Redis 127.0.0.1:", profile.Message);
        Assert.DoesNotContain(new Uri(messaging.ConnectionString).UserInfo, profile.Message);
        // Nothing of the servers runs in this cluster: only the services, with the servers as connection strings.
        Assert.DoesNotContain(app.Model.Resources, IsServer);
        Assert.Equal(["gateway", "node-1", "node-2", "replicator"], app.Model.Resources.OfType<ProjectResource>().Select(r => r.Name).Order(StringComparer.Ordinal));
        Assert.Equal(metadata.ConnectionString, await app.GetConnectionStringAsync(DfsCluster.MetadataName, Ct));
        Assert.Equal(messaging.ConnectionString, await app.GetConnectionStringAsync(DfsCluster.MessagingName, Ct));
        Assert.Equal(cache.ConnectionString, await app.GetConnectionStringAsync(DfsCluster.CacheName, Ct));

        var gateway = app.CreateGateway();
        var data = TestData.Random(900_000, 43);
        await gateway.PutFileAsync("/external/file.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/external/file.bin", Ct));
        // Replication goes through the external broker, to the Replicator of this cluster.
        await ReplicationTiming.WaitForCopiesAsync(gateway, "/external/file.bin", 2, TimeSpan.FromSeconds(60), Ct);
    }

    /// <summary>A server the AppHost runs itself (the model also holds Aspire's own hidden executables, such as each project's rebuilder).</summary>
    private static bool IsServer(IResource resource) =>
        resource is PostgresServerResource or RabbitMqServerResource or EpmdResource or RedisServerResource;

    private static async Task<string> PostgresControlDataAsync(string dataDirectory)
    {
        var bin = ProfileDetector.FindPostgresBin() ?? throw new InvalidOperationException("PostgreSQL is not installed");
        var run = await DfsCli.RunProgramAsync(Path.Combine(bin, "pg_controldata"), [dataDirectory], "/", new Dictionary<string, string>(), null, Ct);
        Assert.True(run.ExitCode == 0, run.ToString());
        return run.Stdout;
    }
}
