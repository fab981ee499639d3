using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Dfs.Gateway.Nodes;
using Dfs.Gateway.Replication;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>Draining and removing nodes against the real metadata queries, on SQLite and on PostgreSQL.</summary>
public sealed class NodeDrainTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_drain_moves_the_copies_count_off_the_node_until_nothing_is_at_risk(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        var registry = meta.Get<NodeRegistry>();
        var (a, b, c) = (await Register(registry, "a"), await Register(registry, "b"), await Register(registry, "c"));
        var x = await meta.CommitOnAsync("/x", "x"u8.ToArray(), 2, a, b);    // one copy elsewhere, two wanted
        var y = await meta.CommitOnAsync("/y", "y"u8.ToArray(), 2, a);       // only on a
        await meta.CommitOnAsync("/z", "z"u8.ToArray(), 3, a, b, c);          // wants 3, but 2 other nodes are enough
        await meta.CommitOnAsync("/g", "g"u8.ToArray(), 2, a);                // deleted below: garbage needs no copy
        await meta.NamesAsync(n => n.DeleteAsync("/g", false, null, Ct));
        var xChunk = ChunkOf(x);
        var yChunk = ChunkOf(y);

        var before = await Drains(meta, d => d.StatusAsync(d.Resolve("a"), Ct));
        Assert.Equal((a, "a", false, 4L, 2L, false), Tuple(before));
        // y is short of a copy anyway; a counts for it while it is not draining.
        var plain = Assert.Single(await Queries(meta, q => q.UnderReplicatedAsync(100, Ct)));
        Assert.Equal(yChunk, plain.ChunkId);
        Assert.Equal([a], plain.Holders);
        Assert.Null(plain.DrainingHolders);

        var started = await Drains(meta, d => d.StartAsync(d.Resolve(a.ToString()), Ct));
        Assert.Equal((a, "a", true, 4L, 2L, false), Tuple(started));
        var since = registry.Find(a)!.DrainingSince;
        Assert.NotNull(since);
        Assert.True((await Drains(meta, d => d.StartAsync(d.Resolve("a"), Ct))).Draining);
        Assert.Equal(since, registry.Find(a)!.DrainingSince); // idempotent: the first request's time stays
        Assert.False(registry.Find(a)!.CopiesCount);
        Assert.True(registry.Find(a)!.IsReadable);

        // Work: y first (no counted copy; its only source is the draining node), then x. z has enough copies.
        var work = await Queries(meta, q => q.UnderReplicatedAsync(100, Ct));
        Assert.Equal([yChunk, xChunk], work.Select(w => w.ChunkId));
        Assert.Empty(work[0].Holders);
        Assert.Equal([a], work[0].DrainingHolders!);
        Assert.Equal([b], work[1].Holders);
        Assert.Equal([a], work[1].DrainingHolders!);
        var state = await Queries(meta, q => q.StateAsync([yChunk], Ct));
        Assert.Equal([a], state.Single().DrainingHolders!);
        // A copy only on a draining node is still readable. z is below its 3 copies but has all that 2 other live nodes can hold:
        // under-replicated, not backlog.
        Assert.Equal(new ReplicationQueries.ReplicationCounts(3, 2, 0), await Queries(meta, q => q.CountAsync(Ct)));

        // New chunks never go to the draining node.
        var placement = new Placement(registry);
        for (var i = 0; i < 50; i++) Assert.NotEqual(a, placement.Choose(1, [])!.Id);
        Assert.Null(placement.Choose(1, [b, c]));

        await AddReplicas(meta, (yChunk, b), (yChunk, c), (xChunk, c));
        var drained = await Drains(meta, d => d.StatusAsync(d.Resolve("a"), Ct));
        Assert.Equal((a, "a", true, 4L, 0L, true), Tuple(drained));
        Assert.Empty(await Queries(meta, q => q.UnderReplicatedAsync(100, Ct)));

        var cancelled = await Drains(meta, d => d.CancelAsync(d.Resolve("a"), Ct));
        Assert.Equal((a, "a", false, 4L, 0L, false), Tuple(cancelled));
        Assert.Null(registry.Find(a)!.DrainingSince);
        Assert.True(registry.Find(a)!.CopiesCount);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Removal_needs_a_finished_drain_or_force_and_forgets_the_node_and_its_copies(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        var registry = meta.Get<NodeRegistry>();
        var (a, b, c) = (await Register(registry, "a"), await Register(registry, "b"), await Register(registry, "c"));
        await meta.CommitOnAsync("/shared", "shared"u8.ToArray(), 2, a, b);
        await meta.CommitOnAsync("/only-b", "only-b"u8.ToArray(), 2, b);
        await meta.CommitOnAsync("/safe", "safe"u8.ToArray(), 2, a, b, c);

        // Not draining: refused, and the answer says how many chunks would be at risk.
        var refused = await Assert.ThrowsAsync<DfsProblemException>(() => Drains(meta, d => d.RemoveAsync(d.Resolve("b"), false, Ct)));
        Assert.Equal(409, refused.Status);
        Assert.Contains("2 of its 3 chunks", refused.Message);

        // Draining a node holding only chunks with enough copies elsewhere: drained at once, and removable.
        var status = await Drains(meta, d => d.StartAsync(d.Resolve("c"), Ct));
        Assert.True(status.Drained);
        await Drains(meta, d => d.RemoveAsync(d.Resolve("c"), false, Ct));
        Assert.Null(registry.Find(c));
        Assert.Equal(0, await ReplicaCount(meta, c));
        Assert.DoesNotContain(c, await NodeIds(meta));

        // Forced: gone with its copies although /only-b now has none (the Replicator cannot help that one).
        await Drains(meta, d => d.RemoveAsync(d.Resolve("b"), true, Ct));
        Assert.Null(registry.Find(b));
        Assert.Equal(0, await ReplicaCount(meta, b));
        Assert.Equal([a], await NodeIds(meta));
        // All three are below 2 copies; none is backlog: one live node holds all it can, and /only-b has no copy to copy from.
        Assert.Equal(new ReplicationQueries.ReplicationCounts(3, 0, 1), await Queries(meta, q => q.CountAsync(Ct)));

        var unknown = await Assert.ThrowsAsync<DfsProblemException>(() => meta.InScopeAsync(sp => Task.FromResult(sp.GetRequiredService<NodeDrains>().Resolve("b"))));
        Assert.Equal(404, unknown.Status);

        // A removed node that heartbeats is told it was removed (its process stops), also by a restarted gateway;
        // a node that never existed is only unknown.
        Assert.Equal(HeartbeatOutcome.Removed, await registry.HeartbeatAsync(b, new NodeUsage(1, 1, 0, 0), Ct));
        Assert.Equal(HeartbeatOutcome.Removed, await registry.HeartbeatAsync(c, new NodeUsage(1, 1, 0, 0), Ct));
        Assert.NotNull(registry.RemovedAt(b));
        Assert.Equal(HeartbeatOutcome.Unknown, await registry.HeartbeatAsync(Guid.NewGuid(), new NodeUsage(1, 1, 0, 0), Ct));
        var restarted = meta.Create<NodeRegistry>();
        await restarted.LoadAsync(Ct);
        Assert.Equal(HeartbeatOutcome.Removed, await restarted.HeartbeatAsync(b, new NodeUsage(1, 1, 0, 0), Ct));
        Assert.Null(restarted.Find(b));
        Assert.Equal(new[] { b, c }.Order(), (await RemovedIds(meta)).Order());

        // Registering again (its process started anew) clears the mark, and it is a new, empty node.
        await restarted.RegisterAsync(new NodeRegistration(b, "b", "http://127.0.0.1:1/b", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct);
        Assert.Equal(HeartbeatOutcome.Accepted, await restarted.HeartbeatAsync(b, new NodeUsage(1 << 30, 1 << 30, 0, 0), Ct));
        Assert.Null(restarted.RemovedAt(b));
        Assert.Equal([c], await RemovedIds(meta));
        var again = meta.Create<NodeRegistry>();
        await again.LoadAsync(Ct);
        Assert.Equal(HeartbeatOutcome.Accepted, await again.HeartbeatAsync(b, new NodeUsage(1 << 30, 1 << 30, 0, 0), Ct));
        Assert.Equal(HeartbeatOutcome.Removed, await again.HeartbeatAsync(c, new NodeUsage(1 << 30, 1 << 30, 0, 0), Ct));

        // Removed a second time: marked again (the earlier mark was deleted by the registration).
        Assert.True(await again.RemoveAsync(b, Ct));
        Assert.Equal(HeartbeatOutcome.Removed, await again.HeartbeatAsync(b, new NodeUsage(1, 1, 0, 0), Ct));
        Assert.Equal(new[] { b, c }.Order(), (await RemovedIds(meta)).Order());
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task The_removed_nodes_table_migrates_down_and_up_over_existing_marks(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        var registry = meta.Get<NodeRegistry>();
        var a = await Register(registry, "a");
        Assert.True(await registry.RemoveAsync(a, Ct));

        await meta.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<MetadataDbContext>();
            Assert.Contains("20261230000000_RemovedNodes", await db.Database.GetAppliedMigrationsAsync(Ct));
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync("20261220000000_UsersTokensShares", Ct);
            Assert.DoesNotContain("20261230000000_RemovedNodes", await db.Database.GetAppliedMigrationsAsync(Ct));
            await migrator.MigrateAsync(null, Ct);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
            return 0;
        });
        // The table came back empty: the id is no longer known as removed.
        var migrated = meta.Create<NodeRegistry>();
        await migrated.LoadAsync(Ct);
        Assert.Equal(HeartbeatOutcome.Unknown, await migrated.HeartbeatAsync(a, new NodeUsage(1, 1, 0, 0), Ct));
        Assert.True(await migrated.RemoveAsync(await Register(migrated, "b"), Ct));
        Assert.Single(await RemovedIds(meta));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task The_drain_column_migrates_over_existing_nodes_and_a_drain_survives_a_restart(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        var registry = meta.Get<NodeRegistry>();
        var a = await Register(registry, "a");
        var b = await Register(registry, "b");

        // Back to the first schema (no column) and forward again, with the nodes in the table.
        await meta.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<MetadataDbContext>();
            Assert.Contains("20261206000000_NodeDrainingSince", await db.Database.GetAppliedMigrationsAsync(Ct));
            var migrator = db.GetService<IMigrator>();
            await migrator.MigrateAsync("20261122000000_Initial", Ct);
            Assert.DoesNotContain("20261206000000_NodeDrainingSince", await db.Database.GetAppliedMigrationsAsync(Ct));
            await migrator.MigrateAsync(null, Ct);
            Assert.Empty(await db.Database.GetPendingMigrationsAsync(Ct));
            return 0;
        });
        var migrated = meta.Create<NodeRegistry>();
        await migrated.LoadAsync(Ct);
        Assert.Equal(["a", "b"], migrated.Snapshot().Select(n => n.Name));
        Assert.All(migrated.Snapshot(), n => Assert.False(n.Draining));

        await registry.StartDrainAsync(b, Ct);
        var restarted = meta.Create<NodeRegistry>();
        await restarted.LoadAsync(Ct);
        var since = restarted.Find(b)!.DrainingSince;
        Assert.NotNull(since);
        Assert.Equal(DateTimeKind.Utc, since.Value.Kind);
        Assert.Equal(registry.Find(b)!.DrainingSince!.Value, since.Value, TimeSpan.FromMilliseconds(1));
        Assert.False(restarted.Find(a)!.Draining);

        // A heartbeat or a re-registration does not end a drain.
        await restarted.HeartbeatAsync(b, new NodeUsage(1 << 30, 1 << 30, 0, 0), Ct);
        await restarted.RegisterAsync(new NodeRegistration(b, "b", "http://127.0.0.1:1/b", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct);
        Assert.True(restarted.Find(b)!.Draining);
        var again = meta.Create<NodeRegistry>();
        await again.LoadAsync(Ct);
        Assert.True(again.Find(b)!.Draining);
    }

    private static (Guid, string, bool, long, long, bool) Tuple(Contracts.Api.NodeDrainStatus s) =>
        (s.NodeId, s.Name, s.Draining, s.ChunksHeld, s.ChunksAtRisk, s.Drained);

    private static string ChunkOf(Files.CommittedFile file) => file.Result.Sha256;

    private static Task<T> Drains<T>(MetadataHarness meta, Func<NodeDrains, Task<T>> work) =>
        meta.InScopeAsync(sp => work(sp.GetRequiredService<NodeDrains>()));

    private static Task Drains(MetadataHarness meta, Func<NodeDrains, Task> work) =>
        meta.InScopeAsync(async sp => { await work(sp.GetRequiredService<NodeDrains>()); return 0; });

    private static Task<T> Queries<T>(MetadataHarness meta, Func<ReplicationQueries, Task<T>> work) =>
        meta.InScopeAsync(sp => work(sp.GetRequiredService<ReplicationQueries>()));

    private static Task AddReplicas(MetadataHarness meta, params (string Chunk, Guid Node)[] replicas) =>
        meta.InScopeAsync(async sp =>
        {
            var db = sp.GetRequiredService<MetadataDbContext>();
            foreach (var (chunk, node) in replicas)
                db.Replicas.Add(new ReplicaRecord { ChunkId = chunk, NodeId = node, CreatedAt = DateTime.UtcNow });
            return await db.SaveChangesAsync(Ct);
        });

    private static Task<int> ReplicaCount(MetadataHarness meta, Guid node) =>
        meta.InScopeAsync(sp => sp.GetRequiredService<MetadataDbContext>().Replicas.CountAsync(r => r.NodeId == node, Ct));

    private static Task<List<Guid>> RemovedIds(MetadataHarness meta) =>
        meta.InScopeAsync(sp => sp.GetRequiredService<MetadataDbContext>().RemovedNodes.Select(n => n.Id).ToListAsync(Ct));

    private static Task<List<Guid>> NodeIds(MetadataHarness meta) =>
        meta.InScopeAsync(sp => sp.GetRequiredService<MetadataDbContext>().Nodes.Select(n => n.Id).ToListAsync(Ct));

    private static async Task<Guid> Register(NodeRegistry registry, string name)
    {
        var id = Guid.NewGuid();
        await registry.RegisterAsync(new NodeRegistration(id, name, $"http://127.0.0.1:1/{name}", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct);
        return id;
    }
}
