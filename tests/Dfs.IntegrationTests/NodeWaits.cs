using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

internal static class NodeWaits
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Polls until the gateway lists every storage node resource that runs as live, and lists no node that is not live:
    /// what a test that killed, stopped or added nodes waits for before it ends, so that the next test of its collection
    /// finds the cluster whole.
    /// </summary>
    public static async Task WaitUntilEveryNodeIsLiveAsync(this DfsTestCluster app, IGatewayApi gateway, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (true)
        {
            var running = app.RunningStorageNodes;
            var nodes = await gateway.GetNodesAsync(ct);
            var missing = running.Where(name => nodes.SingleOrDefault(n => n.Name == name)?.State != NodeStates.Live).ToList();
            var notLive = nodes.Where(n => n.State != NodeStates.Live).Select(n => $"{n.Name}:{n.State}").ToList();
            if (missing.Count == 0 && notLive.Count == 0) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"the gateway does not see every node live: running but not live {string.Join(", ", missing)}; listed not live {string.Join(", ", notLive)}");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Polls until the gateway says <paramref name="node"/> is in <paramref name="state"/>.</summary>
    public static async Task WaitForNodeStateAsync(this IGatewayApi gateway, string node, string state, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + Limit;
        string? now;
        while ((now = (await gateway.GetNodesAsync(ct)).SingleOrDefault(n => n.Name == node)?.State) != state)
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"{node} never became {state} (it is {now ?? "not listed"})");
            await Task.Delay(200, ct);
        }
    }

    /// <summary>Polls <paramref name="condition"/> until it holds; fails with <paramref name="failure"/> after <paramref name="limit"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan limit, string failure, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + limit;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail(failure);
            await Task.Delay(200, ct);
        }
    }
}
