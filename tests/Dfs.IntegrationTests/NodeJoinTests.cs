using Dfs.Contracts.Clients;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Aspire.Hosting.ApplicationModel;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.IntegrationTests.Support;

namespace Dfs.IntegrationTests;

/// <summary>
/// Storage nodes joining a running cluster: a spare the AppHost declared, started by the gateway's "Add storage node"
/// (the dashboard's button), and a node process started by hand outside the AppHost, as an operator adds a machine.
/// Both are used at once: placement is random weighted by free space, so a 40-chunk file puts chunks on them.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class NodeJoinTests(FaultClusterFixture cluster) : IDisposable
{
    private const int Chunks = 40;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-join-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task A_spare_started_by_the_gateways_add_node_command_joins_and_receives_chunks_at_once()
    {
        var spare = Assert.Single(cluster.App.StorageNodes, n => cluster.App.State(n) == KnownResourceStates.NotStarted);

        var added = await cluster.App.ExecuteCommandAsync(DfsCluster.GatewayName, StorageNodeCommands.AddNode, Ct);
        Assert.True(added.Success, added.Message);
        Assert.Contains($"{spare} started", added.Message);
        await cluster.App.WaitHealthyAsync(spare, Ct);

        // Healthy means registered; then heartbeating (a loaded machine may delay a beat enough for "suspect"; never dead).
        var joined = Assert.Single(await cluster.Gateway.GetNodesAsync(Ct), n => n.Name == spare);
        Assert.Contains(joined.State, (string[])[NodeStates.Live, NodeStates.Suspect]);
        await AssertNewChunksReachAsync(spare, "/join/after-spare.bin", 31);
        Assert.All(await ChunksOnAsync("/join/after-spare.bin", spare), id => Assert.True(File.Exists(cluster.App.ChunkFilePath(spare, id)), id));

        // Every spare is in use now: the command says so instead of doing nothing.
        var none = await cluster.App.ExecuteCommandAsync(DfsCluster.GatewayName, StorageNodeCommands.AddNode, Ct);
        Assert.False(none.Success);
        Assert.Contains("No spare storage node is left", none.Message);
        await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
    }

    [Fact]
    public async Task A_node_started_by_hand_outside_the_apphost_registers_with_the_gateway_and_receives_chunks()
    {
        var name = "hand-" + Guid.NewGuid().ToString("N")[..6];
        var dataDirectory = Path.Combine(_folder.FullName, name);
        using var node = StartByHand(name, dataDirectory);
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while ((await cluster.Gateway.GetNodesAsync(Ct)).SingleOrDefault(n => n.Name == name)?.State != NodeStates.Live)
            {
                Assert.False(node.Process.HasExited, $"{name} exited with {(node.Process.HasExited ? node.Process.ExitCode : 0)}:\n{node.Output}");
                Assert.True(DateTime.UtcNow < deadline, $"{name} never became live:\n{node.Output}");
                await Task.Delay(200, Ct);
            }
            var listed = (await cluster.Gateway.GetNodesAsync(Ct)).Single(n => n.Name == name);
            Assert.StartsWith("http://127.0.0.1:", listed.Url);

            await AssertNewChunksReachAsync(name, "/join/after-hand.bin", 32);
            // Stored by that process, in the data folder it was given.
            Assert.All(await ChunksOnAsync("/join/after-hand.bin", name),
                id => Assert.True(File.Exists(Path.Combine(dataDirectory, "chunks", id[..2], id[2..4], id)), id));

            // Leave the cluster as it was: the file goes, then the node (nothing it holds is needed any more); the gateway's
            // 410 at its next heartbeat makes the process end by itself, cleanly.
            await cluster.Gateway.DeleteAsync("/join/after-hand.bin", recursive: false, Ct);
            await cluster.Gateway.RemoveNodeAsync(name, force: true, Ct);
            Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(30)), $"{name} still runs after its removal:\n{node.Output}");
            Assert.Equal(0, node.Process.ExitCode);
            Assert.DoesNotContain(await cluster.Gateway.GetNodesAsync(Ct), n => n.Name == name);
        }
        finally
        {
            // A failure above must not leave the node listed (dead, once killed) for the next tests of the collection.
            try { await cluster.Gateway.RemoveNodeAsync(name, force: true, CancellationToken.None); }
            catch (Dfs.Contracts.Clients.DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound) { }
        }
        await cluster.App.WaitUntilEveryNodeIsLiveAsync(cluster.Gateway, Ct);
    }

    /// <summary>A file of <see cref="Chunks"/> chunks: some land on <paramref name="node"/>, and the file reads back whole.</summary>
    private async Task AssertNewChunksReachAsync(string node, string path, int seed)
    {
        var data = TestData.Random(Chunks * ClusterFixture.ChunkSize, seed);
        await cluster.Gateway.PutFileAsync(path, new MemoryStream(data), ct: Ct);
        Assert.NotEmpty(await ChunksOnAsync(path, node));
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async(path, Ct));
    }

    private async Task<List<string>> ChunksOnAsync(string path, string node) =>
        [.. (await cluster.Gateway.StatAsync(path, Ct)).Chunks.Where(c => c.Replicas.Any(r => r.NodeName == node)).Select(c => c.Id)];

    /// <summary>
    /// The built storage node as its own process, with the environment the AppHost gives one of its nodes: where the
    /// gateway is (Aspire's service discovery variable), the run's cluster secret and timing, a name and a data folder,
    /// and a port of its own.
    /// </summary>
    private HandStartedNode StartByHand(string name, string dataDirectory)
    {
        var options = cluster.App.Cluster.Options;
        var start = new ProcessStartInfo(Built.StorageNode)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            // Its content root: the appsettings.json built beside it.
            WorkingDirectory = Path.GetDirectoryName(Built.StorageNode)!,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("Dfs__", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("services__", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(key);
        start.Environment["services__gateway__http__0"] = cluster.App.GatewayUrl.ToString().TrimEnd('/');
        start.Environment["Dfs__Cluster__Secret"] = cluster.App.Cluster.ClusterSecret;
        start.Environment["Dfs__Cluster__HeartbeatIntervalMs"] = options.HeartbeatIntervalMs.ToString(CultureInfo.InvariantCulture);
        start.Environment["Dfs__Cluster__NodeDeadAfterMs"] = options.NodeDeadAfterMs.ToString(CultureInfo.InvariantCulture);
        start.Environment["Dfs__StorageNode__Name"] = name;
        start.Environment["Dfs__StorageNode__DataDir"] = dataDirectory;
        // Port 0: Kestrel picks a free one, and the node advertises the address it really bound.
        start.Environment["ASPNETCORE_URLS"] = "http://127.0.0.1:0";
        return new HandStartedNode(start);
    }

    /// <summary>A process the test started; killed (with anything it started) when disposed, whatever happened.</summary>
    private sealed class HandStartedNode : IDisposable
    {
        private readonly StringBuilder _output = new();

        public HandStartedNode(ProcessStartInfo start)
        {
            Process = new Process { StartInfo = start };
            Process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            Process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            Process.Start();
            Process.BeginOutputReadLine();
            Process.BeginErrorReadLine();
        }

        public Process Process { get; }

        public string Output { get { lock (_output) return _output.ToString(); } }

        public async Task<bool> WaitForExitAsync(TimeSpan timeout)
        {
            using var limit = new CancellationTokenSource(timeout);
            try
            {
                await Process.WaitForExitAsync(limit.Token);
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }
        }

        public void Dispose()
        {
            if (!Process.HasExited)
            {
                Process.Kill(entireProcessTree: true);
                Process.WaitForExit(TimeSpan.FromSeconds(10));
            }
            Process.Dispose();
        }
    }
}
