using Dfs.Gateway.Nodes;
using Dfs.Gateway.Tests.Metadata;

namespace Dfs.Gateway.Tests.Nodes;

/// <summary>A node far slower than the others (a congested link, a failing disk) while it still heartbeats.</summary>
public sealed class NodeSpeedsTests
{
    private const long Chunk = 256 * 1024;

    [Fact]
    public void A_node_many_times_slower_than_the_others_is_slow_until_its_mark_fades()
    {
        var clock = new PlacementTests.ManualClock();
        var speeds = new NodeSpeeds(clock);
        Guid fast1 = Guid.NewGuid(), fast2 = Guid.NewGuid(), slow = Guid.NewGuid();
        speeds.Record(fast1, Chunk, TimeSpan.FromMilliseconds(5));
        speeds.Record(fast2, Chunk, TimeSpan.FromMilliseconds(8));
        // 256 KiB in 4 s: what a 512 kbit/s link does.
        speeds.Record(slow, Chunk, TimeSpan.FromSeconds(4));

        Assert.True(speeds.IsSlow(slow));
        Assert.False(speeds.IsSlow(fast1));
        Assert.False(speeds.IsSlow(fast2));

        // Nothing measures a node no longer chosen: the mark fades and it is tried again.
        clock.Advance(NodeSpeeds.Memory + TimeSpan.FromSeconds(1));
        Assert.False(speeds.IsSlow(slow));
    }

    [Fact]
    public void Uniformly_slow_nodes_small_transfers_and_a_lone_node_are_never_slow()
    {
        var speeds = new NodeSpeeds(new PlacementTests.ManualClock());
        Guid a = Guid.NewGuid(), b = Guid.NewGuid(), lone = Guid.NewGuid();
        // A busy machine slows every node alike: none stands out.
        speeds.Record(a, Chunk, TimeSpan.FromSeconds(2));
        speeds.Record(b, Chunk, TimeSpan.FromSeconds(3));
        Assert.False(speeds.IsSlow(a) || speeds.IsSlow(b));

        // A 1 KiB transfer measures the round trip, not the link.
        var other = new NodeSpeeds(new PlacementTests.ManualClock());
        other.Record(a, Chunk, TimeSpan.FromMilliseconds(5));
        other.Record(lone, 1024, TimeSpan.FromSeconds(4));
        Assert.False(other.IsSlow(lone));

        // With no other node to compare with, slowness is the cluster's pace.
        var single = new NodeSpeeds(new PlacementTests.ManualClock());
        single.Record(lone, Chunk, TimeSpan.FromSeconds(4));
        Assert.False(single.IsSlow(lone));
    }

    [Fact]
    public void A_chunks_typical_time_is_at_the_median_nodes_pace_and_unknown_without_recent_measurements()
    {
        var clock = new PlacementTests.ManualClock();
        var speeds = new NodeSpeeds(clock);
        Assert.Null(speeds.Typical(Chunk));
        Guid fast = Guid.NewGuid(), slow = Guid.NewGuid(), other = Guid.NewGuid();
        speeds.Record(fast, Chunk, TimeSpan.FromMilliseconds(5));      // 20 ms/MiB
        speeds.Record(slow, Chunk, TimeSpan.FromSeconds(4));           // 16,000 ms/MiB
        // Of two, the faster: a hedge waits on what the cluster can do, not on its slowest node.
        Assert.Equal(40, speeds.Typical(2 * 1024 * 1024)!.Value.TotalMilliseconds, 3);

        speeds.Record(other, Chunk, TimeSpan.FromMilliseconds(10));    // 40 ms/MiB
        Assert.Equal(80, speeds.Typical(2 * 1024 * 1024)!.Value.TotalMilliseconds, 3);

        clock.Advance(NodeSpeeds.Memory + TimeSpan.FromSeconds(1));
        Assert.Null(speeds.Typical(Chunk));
    }

    [Fact]
    public async Task Placement_leaves_a_slow_node_out_while_another_live_node_has_room()
    {
        var clock = new PlacementTests.ManualClock();
        await using var harness = await MetadataDatabases.CreateAsync(MetadataDatabases.Sqlite, clock);
        var registry = harness.Get<NodeRegistry>();
        var speeds = new NodeSpeeds(clock);
        var placement = new Placement(registry, speeds);
        var fast = await PlacementTests.Register(registry, "fast", 100 * Chunk);
        var slow = await PlacementTests.Register(registry, "slow", 100_000 * Chunk);     // all but always chosen by free space alone
        speeds.Record(fast, Chunk, TimeSpan.FromMilliseconds(5));
        speeds.Record(slow, Chunk, TimeSpan.FromSeconds(4));

        for (var i = 0; i < 50; i++) Assert.Equal(fast, placement.Choose(Chunk, [])!.Id);
        // A last resort rather than a refusal.
        Assert.Equal(slow, placement.Choose(Chunk, [fast])!.Id);
    }

    [Fact]
    public async Task Requests_in_flight_to_a_node_are_failed_when_it_turns_slow()
    {
        var clock = new PlacementTests.ManualClock();
        await using var harness = await MetadataDatabases.CreateAsync(MetadataDatabases.Sqlite, clock);
        var registry = harness.Get<NodeRegistry>();
        var speeds = new NodeSpeeds(clock, registry);
        var fast = await PlacementTests.Register(registry, "fast", 100 * Chunk);
        var slow = await PlacementTests.Register(registry, "slow", 100 * Chunk);
        var inFlightToSlow = registry.Unreachable(slow);
        var inFlightToFast = registry.Unreachable(fast);

        speeds.Record(fast, Chunk, TimeSpan.FromMilliseconds(5));
        speeds.Record(slow, Chunk, TimeSpan.FromMilliseconds(6));
        Assert.False(inFlightToSlow.IsCancellationRequested);

        speeds.Record(slow, Chunk, TimeSpan.FromSeconds(8));
        Assert.True(speeds.IsSlow(slow));
        Assert.True(inFlightToSlow.IsCancellationRequested);
        Assert.False(inFlightToFast.IsCancellationRequested);
        // Later requests start with a fresh token: they are not failed for what came before them.
        Assert.False(registry.Unreachable(slow).IsCancellationRequested);
    }
}
