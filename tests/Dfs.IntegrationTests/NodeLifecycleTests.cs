using System.Text.Json;
using Aspire.Hosting.ApplicationModel;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.IntegrationTests.Support;

namespace Dfs.IntegrationTests;

/// <summary>
/// A cluster of its own whose nodes the tests take out for good: four nodes, two copies of every chunk, and crashed
/// resources restarted as in a developer's cluster (so that a node that ends by itself and stays down really was not
/// taken for a crash). Files stored before the tests let each removal show that no chunk lost a copy.
/// </summary>
public sealed class NodeLifecycleFixture : IAsyncLifetime
{
    public const int Copies = 2;

    public DfsTestCluster App { get; private set; } = null!;
    public IGatewayApi Gateway { get; private set; } = null!;
    public Dictionary<string, byte[]> Files { get; } = [];

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        App = await DfsTestCluster.StartAsync(o =>
        {
            o.Nodes = 4;
            o.ReplicationFactor = Copies;
            o.ChunkSizeBytes = 128 * 1024;
            o.ReconcileIntervalMs = 1000;
            o.RestartCrashed = true;
            o.ResourceEnvironment["replicator"] = ReplicationTiming.FastRetries;
        }, ct);
        Gateway = App.CreateGateway();
        for (var i = 0; i < 4; i++)
        {
            Files[$"/drain/{i}.bin"] = TestData.Random(700_000 + i * 100_000, 500 + i);
            await Gateway.PutFileAsync($"/drain/{i}.bin", new MemoryStream(Files[$"/drain/{i}.bin"]), ct: ct);
        }
        foreach (var path in Files.Keys) await ReplicationTiming.WaitForCopiesAsync(Gateway, path, Copies, TimeSpan.FromSeconds(60), ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
    }
}

/// <summary>Taking a storage node out of a running cluster: the dashboard's "Drain and remove", and `dfs nodes remove`.</summary>
public sealed class NodeLifecycleTests(NodeLifecycleFixture cluster) : IClassFixture<NodeLifecycleFixture>, IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(90);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("dfs-lifecycle-");

    public void Dispose() => _work.Delete(recursive: true);

    [Fact]
    public async Task The_dashboards_drain_and_remove_keeps_every_chunks_copies_elsewhere_forgets_the_node_and_stops_its_resource()
    {
        var victim = await BusiestRunningNodeAsync();
        var pid = cluster.App.ProcessId(victim)!.Value;

        var result = await cluster.App.ExecuteCommandAsync(victim, StorageNodeCommands.DrainAndRemove, Ct);
        Assert.True(result.Success, result.Message + "\n" + cluster.App.Output(victim));
        Assert.Equal($"{victim} drained, stopped and removed from the cluster.", result.Message);

        // The resource is stopped, its service process gone, and the dashboard shows how the removal ended.
        Assert.Contains(cluster.App.State(victim), KnownResourceStates.TerminalStates);
        await Procs.AssertAllGoneAsync([pid], TimeSpan.FromSeconds(10));
        Assert.Equal("removed", cluster.App.Snapshot(victim).Properties.Single(p => p.Name == StorageNodeCommands.RemovalProperty).Value);
        Assert.DoesNotContain(await cluster.Gateway.GetNodesAsync(Ct), n => n.Name == victim);
        await AssertEveryFileKeepsItsCopiesWithoutAsync(victim);

        // Stopped on purpose, so not restarted as a crash would be.
        await Task.Delay(TimeSpan.FromSeconds(3), Ct);
        Assert.Contains(cluster.App.State(victim), KnownResourceStates.TerminalStates);
    }

    [Fact]
    public async Task Dfs_nodes_remove_drains_and_removes_a_node_whose_process_then_ends_by_itself_with_exit_code_0()
    {
        var victim = await BusiestRunningNodeAsync();
        var pid = cluster.App.ProcessId(victim)!.Value;

        var remove = await CliAsync("nodes", "remove", victim);
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Contains($"{victim} drained and removed; no chunk lost a copy.", remove.Stdout);
        Assert.Contains($"{victim}: draining", remove.Stderr);
        Assert.DoesNotContain(await cluster.Gateway.GetNodesAsync(Ct), n => n.Name == victim);
        await AssertEveryFileKeepsItsCopiesWithoutAsync(victim);

        // Nobody stops it: the gateway answers its next heartbeat 410 Gone and the node ends itself, cleanly.
        using (var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            limit.CancelAfter(Limit);
            await cluster.App.App.ResourceNotifications.WaitForResourceAsync(victim,
                e => e.Snapshot.State?.Text is { } state && KnownResourceStates.TerminalStates.Contains(state), limit.Token);
        }
        var ended = cluster.App.Snapshot(victim);
        Assert.Contains(ended.State?.Text, (string[])[KnownResourceStates.Finished, KnownResourceStates.Exited]);
        Assert.Equal(0, ended.ExitCode);
        await Procs.AssertAllGoneAsync([pid], TimeSpan.FromSeconds(10));
        Assert.Contains("was removed from the cluster", cluster.App.Output(victim));

        // Restarts of crashed resources are on in this cluster, and a clean exit is not a crash: it stays down.
        await Task.Delay(TimeSpan.FromSeconds(4), Ct);
        Assert.Equal(ended.State?.Text, cluster.App.State(victim));
        Assert.DoesNotContain(cluster.App.Snapshot(victim).Properties, p => p.Name == CrashRestarter.RestartsProperty);

        // cluster.json (what `dfs cluster status` reads) says so too; and the node is unknown to the gateway now.
        var status = await DfsCli.RunAsync(_work.FullName, new Dictionary<string, string> { ["DFS_STATE_DIR"] = cluster.App.StateDirectory }, null,
            ["cluster", "status", "--json"], Ct);
        Assert.True(status.ExitCode == 0, status.ToString());
        using var json = JsonDocument.Parse(status.Stdout);
        var listed = json.RootElement.GetProperty("resources").EnumerateArray().Single(r => r.GetProperty("name").GetString() == victim);
        Assert.Equal(ended.State?.Text, listed.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, listed.GetProperty("pid").ValueKind);
        var again = await CliAsync("nodes", "remove", victim);
        Assert.True(again.ExitCode == 3, again.ToString());
    }

    /// <summary>The running node holding the most chunks, so that its removal has the most copies to keep.</summary>
    private async Task<string> BusiestRunningNodeAsync()
    {
        var running = cluster.App.RunningStorageNodes;
        return (await cluster.Gateway.GetNodesAsync(Ct)).Where(n => running.Contains(n.Name) && n.State == NodeStates.Live)
            .OrderByDescending(n => n.ChunkCount).First().Name;
    }

    private async Task AssertEveryFileKeepsItsCopiesWithoutAsync(string removed)
    {
        foreach (var (path, data) in cluster.Files)
        {
            var stat = await cluster.Gateway.StatAsync(path, Ct);
            Assert.All(stat.Chunks, c =>
            {
                Assert.DoesNotContain(c.Replicas, r => r.NodeName == removed);
                Assert.True(c.Replicas.Count(r => r.NodeState == NodeStates.Live) >= NodeLifecycleFixture.Copies,
                    $"chunk {c.Id} of {path} has {c.Replicas.Count} copies");
            });
            Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async(path, Ct));
        }
    }

    /// <summary>The real dfs as the cluster's first admin, against the gateway.</summary>
    private Task<DfsCli.Run> CliAsync(params string[] args) =>
        DfsCli.RunAsync(_work.FullName, new Dictionary<string, string>
        {
            ["DFS_STATE_DIR"] = Path.Combine(_work.FullName, "no-state"),
            ["XDG_CONFIG_HOME"] = Path.Combine(_work.FullName, "config"),
            ["DFS_TOKEN"] = "",
            ["DFS_USER"] = AdminPassword.User,
            ["DFS_PASSWORD"] = DfsClusterOptions.AdminPassword,
        }, null, ["--gateway", cluster.App.GatewayUrl.ToString(), .. args], Ct);
}
