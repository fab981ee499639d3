using Dfs.Contracts.Api;
using Dfs.Replicator.Replication;
using Dfs.Replicator.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Dfs.Replicator.Tests;

public sealed class ReconcilerTests(StorageCluster cluster) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeGateway _gateway = null!;

    public async ValueTask InitializeAsync() => _gateway = await FakeGateway.StartAsync();

    public async ValueTask DisposeAsync() => await _gateway.DisposeAsync();

    [Fact]
    public async Task RunOnce_repairs_what_the_gateway_lists_as_work()
    {
        await using var services = ReplicatorServices.Build(_gateway);
        var a = TestChunk.Random();
        var b = TestChunk.Random();
        var done = TestChunk.Random();
        await a.PutOnAsync(cluster.N1, Ct);
        await b.PutOnAsync(cluster.N2, Ct);
        await b.PutOnAsync(cluster.N3, Ct);
        _gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        _gateway.AddChunk(a, wanted: 3, cluster.N1);
        _gateway.AddChunk(b, wanted: 3, cluster.N2, cluster.N3);
        // Listed with its copies already: not work, never touched.
        _gateway.AddChunk(done, wanted: 1, cluster.N4);
        _gateway.ServeWork = true;

        var result = await services.GetRequiredService<Reconciler>().RunOnceAsync(Ct);

        Assert.Equal(2, result.Chunks);
        Assert.Equal(3, result.CopiesMade);
        Assert.Equal(0, result.CopiesMissing);
        Assert.Equal(3, (await TestChunk.HoldersAsync(a, cluster.Ordinary, Ct)).Count);
        Assert.Equal(3, (await TestChunk.HoldersAsync(b, cluster.Ordinary, Ct)).Count);
        Assert.DoesNotContain(_gateway.Reports, r => r.ChunkId == done.Id);

        var again = await services.GetRequiredService<Reconciler>().RunOnceAsync(Ct);
        Assert.Equal(0, again.Chunks);
        Assert.Equal(3, _gateway.Reports.Count);
    }

    [Fact]
    public async Task A_full_work_list_is_followed_by_the_next_one_in_the_same_pass()
    {
        await using var services = ReplicatorServices.Build(_gateway, new Dictionary<string, string?>
        {
            ["Dfs:Replicator:ReconcileBatchSize"] = "2",
        });
        var chunks = Enumerable.Range(0, 5).Select(_ => TestChunk.Random(64 * 1024)).ToList();
        foreach (var chunk in chunks) await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes(cluster.N1.Info(), cluster.N2.Info());
        foreach (var chunk in chunks) _gateway.AddChunk(chunk, wanted: 2, cluster.N1);
        _gateway.ServeWork = true;

        var result = await services.GetRequiredService<Reconciler>().RunOnceAsync(Ct);

        Assert.Equal(5, result.CopiesMade);
        Assert.Equal(3, result.Rounds);
        foreach (var chunk in chunks) Assert.True(await chunk.IsIntactOnAsync(cluster.N2, Ct));
    }

    [Fact]
    public async Task The_hosted_reconciler_survives_gateway_failures_and_repairs_on_its_own()
    {
        await using var services = ReplicatorServices.Build(_gateway, new Dictionary<string, string?>
        {
            ["Dfs:Replicator:ReconcileIntervalMs"] = "200",
        });
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N2, Ct);
        _gateway.SetNodes(cluster.N2.Info(), cluster.N3.Info(), cluster.N4.Info());
        _gateway.AddChunk(chunk, wanted: 3, cluster.N2);
        _gateway.ServeWork = true;
        _gateway.FailWorkRequests(2);

        var hosted = services.GetServices<IHostedService>().OfType<Reconciler>().Single();
        await hosted.StartAsync(Ct);
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (_gateway.Holders(chunk.Id).Count < 3)
            {
                Assert.True(DateTime.UtcNow < deadline, "the reconciler did not repair the chunk");
                await Task.Delay(100, Ct);
            }
        }
        finally
        {
            await hosted.StopAsync(CancellationToken.None);
        }

        Assert.True(_gateway.WorkRequests >= 3, $"{_gateway.WorkRequests} work requests");
        Assert.Equal(3, (await TestChunk.HoldersAsync(chunk, [cluster.N2, cluster.N3, cluster.N4], Ct)).Count);
    }

    [Fact]
    public async Task Chunks_that_cannot_be_helped_do_not_keep_a_pass_spinning()
    {
        await using var services = ReplicatorServices.Build(_gateway, new Dictionary<string, string?>
        {
            ["Dfs:Replicator:ReconcileBatchSize"] = "1",
        });
        var chunk = TestChunk.Random(1024);
        await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes(cluster.N1.Info(), cluster.N2.Info(NodeStates.Dead));
        _gateway.AddChunk(chunk, wanted: 3, cluster.N1);
        _gateway.ServeWork = true;

        var result = await services.GetRequiredService<Reconciler>().RunOnceAsync(Ct);

        Assert.Equal(1, result.Rounds);
        Assert.Equal(0, result.CopiesMade);
        Assert.Equal(1, result.LimitedByLiveNodes);
    }
}
