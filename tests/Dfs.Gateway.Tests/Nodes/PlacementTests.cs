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

    [Fact]
    public async Task Choices_follow_the_free_space_of_the_nodes()
    {
        await using var harness = await MetadataDatabases.CreateAsync(MetadataDatabases.Sqlite, new ManualClock());
        var registry = harness.Get<NodeRegistry>();
        var placement = new Placement(registry);
        var small = await Register(registry, "small", 100 * Chunk);
        var medium = await Register(registry, "medium", 300 * Chunk);
        var large = await Register(registry, "large", 600 * Chunk);

        // Placement draws from Random.Shared (no seed to fix), so many draws and a wide margin: with 30,000 draws the
        // standard deviation of a share is under 0.003, the margin 0.03; equal odds (1/3 each) would miss by 0.07 or more.
        const int draws = 30_000;
        var all = Shares(placement, draws, []);
        Assert.Equal(0.1, all.GetValueOrDefault(small) / (double)draws, 0.03);
        Assert.Equal(0.3, all.GetValueOrDefault(medium) / (double)draws, 0.03);
        Assert.Equal(0.6, all.GetValueOrDefault(large) / (double)draws, 0.03);

        // The weights are those of the nodes left: with the large one excluded, 1 : 3.
        var rest = Shares(placement, draws, [large]);
        Assert.False(rest.ContainsKey(large));
        Assert.Equal(0.25, rest.GetValueOrDefault(small) / (double)draws, 0.03);
        Assert.Equal(0.75, rest.GetValueOrDefault(medium) / (double)draws, 0.03);
    }

    private static Dictionary<Guid, int> Shares(Placement placement, int draws, IReadOnlyCollection<Guid> exclude)
    {
        var counts = new Dictionary<Guid, int>();
        for (var i = 0; i < draws; i++)
        {
            var id = placement.Choose(Chunk, exclude)!.Id;
            counts[id] = counts.GetValueOrDefault(id) + 1;
        }
        return counts;
    }

    internal static async Task<Guid> Register(NodeRegistry registry, string name, long free)
    {
        var id = Guid.NewGuid();
        await registry.RegisterAsync(new NodeRegistration(id, name, $"http://127.0.0.1:1/{name}", new NodeUsage(free, free, 0, 0)), Ct);
        return id;
    }

    internal sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 11, 22, 0, 0, 0, TimeSpan.Zero);
        public override DateTimeOffset GetUtcNow() => _now;
        public void Advance(TimeSpan by) => _now += by;
    }
}
