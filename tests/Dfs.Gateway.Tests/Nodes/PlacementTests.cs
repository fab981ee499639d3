using Dfs.Contracts.Internal;
using Dfs.Gateway.Nodes;
using Dfs.Gateway.Tests.Metadata;

namespace Dfs.Gateway.Tests.Nodes;

public sealed class PlacementTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const long Chunk = 1 << 20;

    [Fact]
    public async Task Live_nodes_are_preferred_suspect_ones_are_a_last_resort_and_dead_ones_never_chosen()
    {
        var clock = new ManualClock();
        await using var harness = await MetadataDatabases.CreateAsync(MetadataDatabases.Sqlite, clock);
        var registry = harness.Get<NodeRegistry>();
        var placement = new Placement(registry);
        var a = await Register(registry, "a", 100 * Chunk);
        var b = await Register(registry, "b", 100 * Chunk);

        // Defaults: 2 s heartbeats, suspect after 6 s, dead after 15 s. Only b keeps beating.
        clock.Advance(TimeSpan.FromSeconds(7));
        await registry.HeartbeatAsync(b, new NodeUsage(100 * Chunk, 100 * Chunk, 0, 0), Ct);
        for (var i = 0; i < 50; i++) Assert.Equal(b, placement.Choose(Chunk, [])!.Id);

        // Every node suspect (a busy gateway missed their beats): still a place to store, not a refusal.
        Assert.Equal(a, placement.Choose(Chunk, [b])!.Id);
        clock.Advance(TimeSpan.FromSeconds(7));
        Assert.NotNull(placement.Choose(Chunk, []));

        // Dead nodes and nodes without room are never chosen.
        clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(placement.Choose(Chunk, []));
        await registry.HeartbeatAsync(a, new NodeUsage(100 * Chunk, Chunk - 1, 0, 0), Ct);
        Assert.Null(placement.Choose(Chunk, []));
    }

    private static async Task<Guid> Register(NodeRegistry registry, string name, long free)
    {
        var id = Guid.NewGuid();
        await registry.RegisterAsync(new NodeRegistration(id, name, $"http://127.0.0.1:1/{name}", new NodeUsage(free, free, 0, 0)), Ct);
        return id;
    }

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
