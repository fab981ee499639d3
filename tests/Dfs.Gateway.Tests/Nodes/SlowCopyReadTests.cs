using System.Globalization;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Nodes;
using Dfs.Gateway.Tests.Api;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Nodes;

/// <summary>
/// A node that stalls on reads without failing (a congested link, a paused process) while it still counts as live: a read
/// asks the next copy after the hedge delay instead of waiting for the node time limit, and the last copy of a chunk is
/// waited for rather than given up on.
/// </summary>
public sealed class SlowCopyReadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const long Plenty = 1L << 30;

    [Fact]
    public async Task A_read_stalled_on_one_copy_is_served_by_the_other_while_the_stalled_read_still_hangs()
    {
        var gateway = StartGateway(replicationFactor: 2);
        await using var _ = gateway;
        using var instruments = new GatewayInstruments(gateway);
        await using var a = await FakeNode.StartAsync("a", FakeBehaviour.Store, Ct, servesReads: true);
        await using var b = await FakeNode.StartAsync("b", FakeBehaviour.Store, Ct, servesReads: true);
        await a.RegisterAsync(gateway, Plenty, Ct);
        await b.RegisterAsync(gateway, Plenty, Ct);
        var client = DfsRefit.Gateway(gateway.CreateClient());
        // Above the read cache's small-chunk limit: every read goes to a node.
        var data = new byte[1024 * 1024];
        Random.Shared.NextBytes(data);
        await client.PutFileAsync("/hedged.bin", new MemoryStream(data), ct: Ct);
        // The embedded Replicator makes the second copy.
        while ((await client.StatAsync("/hedged.bin", Ct)).Chunks.Single().Replicas.Count < 2) await Task.Delay(50, Ct);

        // One node stalls, then the other: whichever copy a read asks first, one of the two reads asks the stalled one first.
        foreach (var (stalled, other) in new[] { (a, b), (b, a) })
        {
            stalled.ReadsHang = true;
            var readsBefore = other.Reads;
            // Well inside the node time limit: a read that waited for the stalled copy to give up would miss it.
            var read = ReadAsync(client, "/hedged.bin", Ct).WaitAsync(TimeSpan.FromSeconds(30), Ct);
            Assert.Equal(data, await read);
            Assert.True(other.Reads > readsBefore, $"{other.Name} served no read while {stalled.Name} stalled");
            // The stalled read was dropped once the other copy answered, not left to its time limit.
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (stalled.HangingReads > 0 && DateTime.UtcNow < deadline) await Task.Delay(20, Ct);
            Assert.Equal(0, stalled.HangingReads);
            stalled.ReadsHang = false;
        }

        // The read that asked the stalled copy first was answered by the copy asked after the hedge delay.
        Assert.True(instruments.CountsBy("dfs.gateway.read.hedges", "answered_by").GetValueOrDefault("hedge") >= 1);
    }

    [Fact]
    public async Task The_only_copy_is_read_again_when_its_node_turns_slow_mid_read_instead_of_failing_the_read()
    {
        var gateway = StartGateway(replicationFactor: 1);
        await using var _ = gateway;
        await using var slow = await FakeNode.StartAsync("slow", FakeBehaviour.Store, Ct, servesReads: true);
        await using var fast = await FakeNode.StartAsync("fast", FakeBehaviour.Store, Ct, servesReads: true);
        await slow.RegisterAsync(gateway, Plenty, Ct);
        var client = DfsRefit.Gateway(gateway.CreateClient());
        var data = new byte[1024 * 1024];
        Random.Shared.NextBytes(data);
        await client.PutFileAsync("/only-copy.bin", new MemoryStream(data), ct: Ct);
        // Registered after the PUT: the one copy is on the slow node.
        await fast.RegisterAsync(gateway, Plenty, Ct);

        slow.ReadDelay = TimeSpan.FromSeconds(2);
        var read = ReadAsync(client, "/only-copy.bin", Ct);
        while (slow.HangingReads == 0 && !read.IsCompleted) await Task.Delay(10, Ct);
        // What the gateway measures of a congested link: the node turns far slower than the others, and its reads in
        // flight are abandoned (so that they move to another copy; this chunk has none).
        var speeds = gateway.Services.GetRequiredService<NodeSpeeds>();
        speeds.Record(fast.Id, 1024 * 1024, TimeSpan.FromMilliseconds(5));
        speeds.Record(slow.Id, 1024 * 1024, TimeSpan.FromSeconds(8));
        Assert.True(speeds.IsSlow(slow.Id));

        Assert.Equal(data, await read.WaitAsync(TimeSpan.FromSeconds(30), Ct));
        Assert.Equal(2, slow.Reads);
    }

    private static GatewayFactory StartGateway(int replicationFactor)
    {
        var gateway = new GatewayFactory()
            .With("Dfs:Gateway:ReplicationFactor", replicationFactor.ToString(CultureInfo.InvariantCulture))
            .With("Dfs:Gateway:ChunkSizeBytes", (2 * 1024 * 1024).ToString(CultureInfo.InvariantCulture))
            // Far beyond the test's patience: a read that waited for it would miss the test's own time limit.
            .With("Dfs:Gateway:NodeRequestTimeoutSeconds", "60")
            .With("Dfs:Gateway:HedgeAfterMs", "200")
            // The scripted nodes do not heartbeat: they stay live for the test, as a stalled node that heartbeats does.
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        gateway.StartServer();
        return gateway;
    }

    private static async Task<byte[]> ReadAsync(IGatewayApi client, string path, CancellationToken ct)
    {
        await using var download = await client.GetFileAsync(path, ct: ct);
        using var copy = new MemoryStream();
        await download.Content.CopyToAsync(copy, ct);
        return copy.ToArray();
    }
}
