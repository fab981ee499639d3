using Dfs.Replicator.Tests.Infrastructure;

namespace Dfs.Replicator.Tests;

/// <summary>The Replicator as the AppHost runs it: its own process, configured through the environment.</summary>
public sealed class StandaloneProcessTests(StorageCluster cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_process_finds_the_gateway_by_service_discovery_alone_and_its_reconciler_repairs_from_it()
    {
        await using var gateway = await FakeGateway.StartAsync();
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        gateway.AddChunk(chunk, wanted: 3, cluster.N1);
        gateway.ServeWork = true;

        // No ConnectionStrings__messaging: the in-memory bus. Only services__gateway__http__0, as Aspire passes it: the
        // Replicator reaches the gateway at http://gateway through service discovery.
        await using var replicator = await ServiceProcess.StartAsync(ServiceDllAttribute.Find("replicator"), new Dictionary<string, string>
        {
            ["services__gateway__http__0"] = gateway.Url.ToString().TrimEnd('/'),
            ["Dfs__Replicator__ReconcileIntervalMs"] = "300",
        }, Ct);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (gateway.Holders(chunk.Id).Count < 3)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the Replicator did not repair the chunk:\n{replicator.Output}");
            await Task.Delay(100, Ct);
        }
        Assert.Equal(3, (await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct)).Count);
    }

    [Fact]
    public async Task Invalid_settings_stop_the_process_at_start_with_the_reason()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ServiceProcess.StartAsync(
            ServiceDllAttribute.Find("replicator"),
            new Dictionary<string, string> { ["Dfs__Replicator__ReconcileBatchSize"] = "0" }, Ct));
        Assert.Contains("ReconcileBatchSize", error.Message);
    }
}
