using System.Net.Http.Headers;
using Dfs.AppHost.Testing;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>Adding storage nodes to a running cluster and draining one out of it, through the AppHost's API and `dfs cluster`.</summary>
public sealed class NodeLifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const int Copies = 2;

    [Fact]
    public async Task Nodes_are_added_over_http_and_the_cli_and_a_drained_node_is_removed_without_any_chunk_losing_a_copy()
    {
        await using var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = "local";
            o.Nodes = 3;
            o.ReplicationFactor = Copies;
            o.ChunkSizeBytes = 128 * 1024;
            o.HeartbeatIntervalMs = 300;
            o.NodeDeadAfterMs = 3000;
            o.ReplicatorReconcileIntervalMs = 1000;
            o.ResourceEnvironment["replicator"] = ReplicationTiming.FastRetries;
        }).Build();
        await app.StartAsync(Ct);
        var gateway = new GatewayClient(app.CreateHttpClient("gateway"));
        var files = new Dictionary<string, byte[]>();
        for (var i = 0; i < 4; i++)
        {
            files[$"/drain/{i}.bin"] = TestData.Random(700_000 + i * 100_000, 500 + i);
            await gateway.PutFileAsync($"/drain/{i}.bin", new MemoryStream(files[$"/drain/{i}.bin"]), ct: Ct);
        }
        foreach (var path in files.Keys) await ReplicationTiming.WaitForCopiesAsync(gateway, path, Copies, TimeSpan.FromSeconds(60), Ct);

        // Over HTTP: the AppHost's API, with the dashboard token.
        using var http = new HttpClient { BaseAddress = app.DashboardUrl };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", app.DashboardToken);
        var added = await new AppHostClient(http).AddNodeAsync(Ct);
        Assert.Equal("node-4", added.Name);
        Assert.Contains((await gateway.GetNodesAsync(Ct)).Single(n => n.Name == "node-4").State, (string[])[NodeStates.Live, NodeStates.Suspect]);

        // With dfs, which finds the AppHost through cluster.json.
        var cliEnvironment = new Dictionary<string, string> { ["DFS_STATE_DIR"] = app.StateDirectory };
        var addByCli = await DfsCli.RunAsync(app.StateDirectory, cliEnvironment, null, ["cluster", "add-node"], Ct);
        Assert.True(addByCli.ExitCode == 0, addByCli.ToString());
        Assert.Contains("node-5 added", addByCli.Stdout);
        var status = await DfsCli.RunAsync(app.StateDirectory, cliEnvironment, null, ["cluster", "status"], Ct);
        Assert.Contains("node-5", status.Stdout);

        // Drain the node holding the most chunks and remove it.
        var victim = (await gateway.GetNodesAsync(Ct)).OrderByDescending(n => n.ChunkCount).First().Name;
        var remove = await DfsCli.RunAsync(app.StateDirectory, cliEnvironment, null, ["cluster", "remove-node", victim], Ct);
        Assert.True(remove.ExitCode == 0, remove.ToString());
        Assert.Contains($"{victim} drained and removed", remove.Stdout);

        Assert.DoesNotContain(app.Resources, r => r.Name == victim);
        Assert.DoesNotContain(await gateway.GetNodesAsync(Ct), n => n.Name == victim);
        foreach (var (path, data) in files)
        {
            var stat = await gateway.StatAsync(path, Ct);
            Assert.All(stat.Chunks, c =>
            {
                Assert.DoesNotContain(c.Replicas, r => r.NodeName == victim);
                Assert.True(c.Replicas.Count(r => r.NodeState == NodeStates.Live) >= Copies, $"chunk {c.Id} of {path} has {c.Replicas.Count} copies");
            });
            Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async(path, Ct));
        }

        // Bad input: a node that is not there, a resource that is not a storage node.
        var unknown = await DfsCli.RunAsync(app.StateDirectory, cliEnvironment, null, ["cluster", "remove-node", victim], Ct);
        Assert.Equal(3, unknown.ExitCode);
        var notANode = await DfsCli.RunAsync(app.StateDirectory, cliEnvironment, null, ["cluster", "remove-node", "gateway"], Ct);
        Assert.Equal(7, notANode.ExitCode);
        Assert.Contains("only storage nodes can be removed", notANode.Stderr);
    }
}
