using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Dfs.Replicator.Tests.Infrastructure;

namespace Dfs.Replicator.Tests;

/// <summary>The Replicator signs its calls with the cluster's secret, needs one to start, and listens on loopback by default.</summary>
/// <remarks>
/// Starts three Replicator processes: run alone, so their start-up does not starve the timing-sensitive tests that
/// MassTransit's harness runs in parallel.
/// </remarks>
[Collection(Name)]
public sealed partial class ClusterTrustTests(StorageCluster cluster)
{
    public const string Name = "Replicator processes, alone";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Its_calls_to_the_gateway_and_the_nodes_are_signed_and_with_another_secret_nothing_is_copied()
    {
        await using var gateway = await FakeGateway.StartAsync();
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        gateway.AddChunk(chunk, wanted: 2, cluster.N1);
        gateway.ServeWork = true;

        // Another cluster's secret: the gateway refuses every call, so nothing is asked of the nodes either.
        await using (var stranger = await ServiceProcess.StartAsync(ServiceDllAttribute.Find("replicator"), new Dictionary<string, string>
        {
            ["services__gateway__http__0"] = gateway.Url.ToString().TrimEnd('/'),
            ["Dfs__Replicator__ReconcileIntervalMs"] = "200",
            ["Dfs__Cluster__Secret"] = "another-clusters-secret-0123456789",
        }, Ct))
        {
            var until = DateTime.UtcNow.AddSeconds(30);
            while (gateway.UnsignedRequests < 3 && DateTime.UtcNow < until) await Task.Delay(100, Ct);
            Assert.True(gateway.UnsignedRequests >= 3, stranger.Output);
            Assert.Equal(0, gateway.WorkRequests);
            Assert.Single(await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct));
        }

        var refusedBefore = gateway.UnsignedRequests;
        await using var replicator = await ServiceProcess.StartAsync(ServiceDllAttribute.Find("replicator"), new Dictionary<string, string>
        {
            ["services__gateway__http__0"] = gateway.Url.ToString().TrimEnd('/'),
            ["Dfs__Replicator__ReconcileIntervalMs"] = "200",
        }, Ct);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (gateway.Holders(chunk.Id).Count < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the Replicator did not repair the chunk:\n{replicator.Output}");
            await Task.Delay(100, Ct);
        }
        // The copy went node to node (the nodes answer only signed requests) and was reported with a signature.
        Assert.Equal(2, (await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct)).Count);
        Assert.Equal(refusedBefore, gateway.UnsignedRequests);
    }

    [Fact]
    public async Task Without_a_secret_the_process_refuses_to_start_and_says_why()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(
            ServiceDllAttribute.Find("replicator"),
            new Dictionary<string, string> { ["Dfs__Cluster__Secret"] = "", ["services__gateway__http__0"] = "http://127.0.0.1:1" }, Ct));
        Assert.Contains("Dfs:Cluster:Secret is not set", error.Message);
    }

    [Fact]
    public async Task Without_configured_urls_it_listens_on_127_0_0_1_only()
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServiceDllAttribute.Find("replicator"))!,
        };
        info.ArgumentList.Add(ServiceDllAttribute.Find("replicator"));
        foreach (var inherited in (string[])["ASPNETCORE_URLS", "DOTNET_URLS", "ASPNETCORE_HTTP_PORTS", "ASPNETCORE_HTTPS_PORTS", "DOTNET_HTTP_PORTS", "DOTNET_HTTPS_PORTS", "OTEL_EXPORTER_OTLP_ENDPOINT"])
            info.Environment.Remove(inherited);
        info.Environment["Dfs__Cluster__Secret"] = ServiceProcess.ClusterSecret;
        info.Environment["services__gateway__http__0"] = "http://127.0.0.1:1";
        info.Environment["DFS_PARENT_PID"] = Environment.ProcessId.ToString();
        var output = new StringBuilder();
        using var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            string Text() { lock (output) return output.ToString(); }
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (!Text().Contains("Application started") && !process.HasExited && DateTime.UtcNow < deadline) await Task.Delay(100, Ct);
            var addresses = ListeningRegex().Matches(Text()).Select(m => new Uri(m.Groups[1].Value)).ToList();
            var address = Assert.Single(addresses);
            Assert.Equal("127.0.0.1", address.Host);
            using var http = new HttpClient { BaseAddress = address };
            Assert.Equal(System.Net.HttpStatusCode.OK, (await http.GetAsync("/alive", Ct)).StatusCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
        }
    }

    [GeneratedRegex(@"Now listening on: (\S+)")]
    private static partial Regex ListeningRegex();
}

[CollectionDefinition(ClusterTrustTests.Name, DisableParallelization = true)]
public sealed class ReplicatorProcessesCollection;
