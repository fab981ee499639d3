using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Dfs.Replicator.Consumers;
using Dfs.Replicator.Hosting;
using Dfs.Replicator.Replication;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Tests;

/// <summary>Options, retry schedule, queue names and placement rules: no processes needed.</summary>
public sealed class CompositionTests
{
    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddLogging().AddReplicatorCore(configuration).BuildServiceProvider();
    }

    [Fact]
    public void Defaults_are_the_documented_ones()
    {
        using var services = Services([]);
        var options = services.GetRequiredService<IOptions<ReplicatorOptions>>().Value;
        Assert.Equal((30_000, 500, 120), (options.ReconcileIntervalMs, options.ReconcileBatchSize, options.CopyTimeoutSeconds));
        Assert.Equal((2, 5, 200, 10_000, 500),
            (options.Retry.ImmediateRetries, options.Retry.ExponentialRetries, options.Retry.MinBackoffMs, options.Retry.MaxBackoffMs, options.Retry.DeltaBackoffMs));
    }

    [Fact]
    public void Settings_bind_from_Dfs_Replicator()
    {
        using var services = Services(new()
        {
            ["Dfs:Replicator:ReconcileBatchSize"] = "42",
            ["Dfs:Replicator:Retry:ExponentialRetries"] = "9",
        });
        var options = services.GetRequiredService<IOptions<ReplicatorOptions>>().Value;
        Assert.Equal(42, options.ReconcileBatchSize);
        Assert.Equal(9, options.Retry.ExponentialRetries);
    }

    [Theory]
    [InlineData("Dfs:Replicator:ReconcileBatchSize", "0", "ReconcileBatchSize")]
    [InlineData("Dfs:Replicator:CopyTimeoutSeconds", "-1", "CopyTimeoutSeconds")]
    [InlineData("Dfs:Replicator:Retry:ImmediateRetries", "-1", "Retry:ImmediateRetries")]
    [InlineData("Dfs:Replicator:Retry:MinBackoffMs", "20000", "MinBackoffMs (20000) must not exceed MaxBackoffMs")]
    public void Invalid_settings_are_refused_with_a_clear_message(string key, string value, string expected)
    {
        using var services = Services(new() { [key] = value });
        var error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ReplicatorOptions>>().Value);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void The_retry_schedule_is_immediate_retries_then_capped_exponential_backoff()
    {
        var retry = new ReplicatorRetryOptions { ImmediateRetries = 2, ExponentialRetries = 7, MinBackoffMs = 200, MaxBackoffMs = 10_000, DeltaBackoffMs = 500 };
        Assert.Equal([0, 0, 200, 700, 1700, 3700, 7700, 10_000, 10_000], ReplicatorRetry.Intervals(retry).Select(t => t.TotalMilliseconds));
        Assert.Equal(10, ReplicatorRetry.Attempts(retry));
    }

    [Fact]
    public void Queue_names_are_the_kebab_case_defaults()
    {
        var formatter = KebabCaseEndpointNameFormatter.Instance;
        Assert.Equal(ReplicatorQueues.FileStored, formatter.Consumer<FileStoredConsumer>());
        Assert.Equal(ReplicatorQueues.NodeLost, formatter.Consumer<NodeLostConsumer>());
        Assert.Equal(ReplicatorQueues.FileDeleted, formatter.Consumer<FileDeletedConsumer>());
        Assert.Equal(ReplicatorQueues.NodeDraining, formatter.Consumer<NodeDrainingConsumer>());
        Assert.Equal(["file-stored_error", "node-lost_error", "file-deleted_error", "node-draining_error"], ReplicatorQueues.ErrorQueues);

        // Pinned in the definitions, so a host with another formatter still uses them.
        using var services = Services([]);
        var options = services.GetRequiredService<IOptions<ReplicatorOptions>>();
        Assert.Equal("file-stored", ((IConsumerDefinition)new FileStoredConsumerDefinition(options)).GetEndpointName(DefaultEndpointNameFormatter.Instance));
        Assert.Equal("node-lost", ((IConsumerDefinition)new NodeLostConsumerDefinition(options)).GetEndpointName(DefaultEndpointNameFormatter.Instance));
        Assert.Equal("file-deleted", ((IConsumerDefinition)new FileDeletedConsumerDefinition(options)).GetEndpointName(DefaultEndpointNameFormatter.Instance));
        Assert.Equal("node-draining", ((IConsumerDefinition)new NodeDrainingConsumerDefinition(options)).GetEndpointName(DefaultEndpointNameFormatter.Instance));
    }

    [Fact]
    public void The_gateway_is_found_by_service_discovery_unless_the_host_says_where_it_is()
    {
        Assert.Equal(new Uri("https+http://gateway"), new DiscoveredGatewayAddress().Current);
    }

    [Fact]
    public void The_host_keeps_its_own_storage_client()
    {
        // The gateway registers IStorageNodeClient for itself; embedding the Replicator must not replace it.
        var services = new ServiceCollection().AddLogging();
        services.AddReplicatorCore(new ConfigurationBuilder().Build());
        Assert.DoesNotContain(services, d => d.ServiceType == typeof(Dfs.Contracts.Clients.IStorageNodeClient));

    }

    private static NodeInfo Node(string name, string state = NodeStates.Live, long free = 1L << 40, bool draining = false) =>
        new(Guid.NewGuid(), name, $"http://127.0.0.1:1/{name}", state, 1L << 41, free, 0, 0, DateTime.UtcNow, DateTime.UtcNow, draining);

    [Fact]
    public void Targets_are_live_non_holders_with_the_most_free_space_first()
    {
        var holder = Node("holder");
        var suspectHolder = Node("suspect-holder", NodeStates.Suspect);
        var roomy = Node("roomy", free: 1L << 42);
        var small = Node("small", free: 1L << 31);
        var tooSmall = Node("too-small", free: 10);
        var suspect = Node("suspect", NodeStates.Suspect);
        var dead = Node("dead", NodeStates.Dead);
        var chunk = new ChunkWork(new string('a', 64), 1000, 4, [holder.Id, suspectHolder.Id, dead.Id]);

        var plan = ReplicationPlan.Create(chunk, [tooSmall, dead, small, holder, suspect, roomy, suspectHolder]);

        Assert.Equal(["roomy", "small", "too-small"], plan.Targets.Select(n => n.Name));
        Assert.Equal(["holder", "suspect-holder"], plan.Sources.Select(n => n.Name));
        Assert.Equal(2, plan.HoldersBefore);
        Assert.Equal(4, plan.Target);
        Assert.Equal(2, plan.CopiesNeeded);
    }

    [Fact]
    public void Nodes_with_about_the_same_free_space_are_picked_at_random()
    {
        var a = Node("a", free: 100L << 30);
        var b = Node("b", free: (100L << 30) + 1000);
        var chunk = new ChunkWork(new string('b', 64), 1000, 2, [Node("h").Id]);

        var firsts = Enumerable.Range(0, 200).Select(_ => ReplicationPlan.Create(chunk, [a, b]).Targets[0].Name).ToHashSet();

        Assert.Equal(["a", "b"], firsts.Order());
    }

    [Fact]
    public void Never_more_copies_than_nodes_to_hold_them()
    {
        var holder = Node("holder");
        var other = Node("other");
        var chunk = new ChunkWork(new string('c', 64), 1000, 3, [holder.Id]);

        var plan = ReplicationPlan.Create(chunk, [holder, other, Node("dead", NodeStates.Dead)]);

        Assert.Equal(2, plan.Target);
        Assert.Equal(1, plan.CopiesNeeded);
    }

    [Fact]
    public void Draining_holders_are_sources_not_copies_and_draining_nodes_are_never_targets()
    {
        var holder = Node("holder");
        var leaving = Node("leaving", draining: true);
        var leavingSuspect = Node("leaving-suspect", NodeStates.Suspect, draining: true);
        var leavingDead = Node("leaving-dead", NodeStates.Dead, draining: true);
        var otherLeaving = Node("other-leaving", draining: true);
        var free = Node("free");
        var chunk = new ChunkWork(new string('d', 64), 1000, 3, [holder.Id], [leaving.Id, leavingSuspect.Id, leavingDead.Id]);

        var plan = ReplicationPlan.Create(chunk, [holder, leaving, leavingSuspect, leavingDead, otherLeaving, free]);

        // Live sources first (the counted holder and the draining one, in random order), then the suspect one.
        Assert.Equal(["holder", "leaving"], plan.Sources.Take(2).Select(n => n.Name).Order());
        Assert.Equal("leaving-suspect", plan.Sources[2].Name);
        Assert.Equal(3, plan.Sources.Count);
        // Neither a holder (draining or not) nor a draining node takes the copy.
        Assert.Equal(["free"], plan.Targets.Select(n => n.Name));
        Assert.Equal(1, plan.HoldersBefore);
        Assert.Equal(2, plan.Target);
        Assert.Equal(1, plan.CopiesNeeded);
    }

    [Fact]
    public void A_chunk_held_only_on_a_draining_node_is_copied_from_it()
    {
        var leaving = Node("leaving", draining: true);
        var a = Node("a");
        var b = Node("b");
        var chunk = new ChunkWork(new string('e', 64), 1000, 2, [], [leaving.Id]);

        var plan = ReplicationPlan.Create(chunk, [leaving, a, b]);

        Assert.Equal(["leaving"], plan.Sources.Select(n => n.Name));
        Assert.Equal(["a", "b"], plan.Targets.Select(n => n.Name).Order());
        Assert.Equal(0, plan.HoldersBefore);
        Assert.Equal(2, plan.CopiesNeeded);
    }

    [Fact]
    public void A_holder_the_node_list_calls_draining_does_not_count_even_before_the_work_says_so()
    {
        var leaving = Node("leaving", draining: true);
        var other = Node("other");
        var chunk = new ChunkWork(new string('f', 64), 1000, 2, [leaving.Id, other.Id]);

        var plan = ReplicationPlan.Create(chunk, [leaving, other, Node("spare")]);

        Assert.Equal(1, plan.HoldersBefore);
        Assert.Equal(["spare"], plan.Targets.Select(n => n.Name));
        Assert.Equal(1, plan.CopiesNeeded);
        Assert.Contains(plan.Sources, n => n.Name == "leaving");
    }
}
