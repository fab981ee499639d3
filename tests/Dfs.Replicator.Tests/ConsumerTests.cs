using System.Diagnostics.Metrics;
using Dfs.Contracts.Api;
using Dfs.Contracts.Messages;
using Dfs.Replicator.Consumers;
using Dfs.Replicator.Diagnostics;
using Dfs.Replicator.Tests.Infrastructure;
using MassTransit;
using MassTransit.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Replicator.Tests;

/// <summary>The consumers on MassTransit's in-memory test harness, with their definitions (retry policy, names).</summary>
public sealed class ConsumerTests(StorageCluster cluster) : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private FakeGateway _gateway = null!;
    private ServiceProvider _services = null!;
    private ITestHarness _harness = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await FakeGateway.StartAsync();
        _services = ReplicatorServices.BuildWithHarness(_gateway);
        _harness = _services.GetRequiredService<ITestHarness>();
        _harness.TestTimeout = TimeSpan.FromSeconds(60);
        // The harness's lists stop waiting after this long without bus activity (6 s by default), and a consumer that copies
        // chunks on a loaded machine (the test command runs this project beside the benchmark and the chaos run) can be
        // busy that long with no message moving: it would read as "never consumed".
        _harness.TestInactivityTimeout = TimeSpan.FromSeconds(60);
        await _harness.Start();
    }

    public async ValueTask DisposeAsync()
    {
        await _harness.Stop(Ct);
        await _services.DisposeAsync();
        await _gateway.DisposeAsync();
    }

    private static FileStored Stored(string path, int replicationFactor, params (TestChunk Chunk, StorageNode Holder)[] chunks) =>
        new(Guid.NewGuid(), path, 1, replicationFactor,
            [.. chunks.Select(c => new StoredChunkHolders(c.Chunk.Id, c.Chunk.Size, [c.Holder.Id]))], DateTime.UtcNow);

    private async Task<IReceivedMessage<FileStored>> ConsumedAsync(Guid fileId)
    {
        var consumer = _harness.GetConsumerHarness<FileStoredConsumer>();
        Assert.True(await consumer.Consumed.Any<FileStored>(m => m.Context.Message.FileId == fileId, Ct), "FileStored was not consumed");
        return consumer.Consumed.Select<FileStored>(m => m.Context.Message.FileId == fileId, Ct).First();
    }

    [Fact]
    public async Task FileStored_brings_every_chunk_to_its_replication_factor()
    {
        var a = TestChunk.Random();
        var b = TestChunk.Random(2 * 1024 * 1024);
        await a.PutOnAsync(cluster.N1, Ct);
        await b.PutOnAsync(cluster.N2, Ct);
        _gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        _gateway.AddChunk(a, wanted: 3, cluster.N1);
        _gateway.AddChunk(b, wanted: 3, cluster.N2);
        var message = Stored("/docs/report.pdf", 3, (a, cluster.N1), (b, cluster.N2));

        await _harness.Bus.Publish(message, Ct);

        Assert.Null((await ConsumedAsync(message.FileId)).Exception);
        foreach (var chunk in new[] { a, b })
        {
            var holders = await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct);
            Assert.Equal(3, holders.Count);
            foreach (var holder in holders) Assert.True(await chunk.IsIntactOnAsync(holder, Ct));
            Assert.Equal(3, _gateway.Holders(chunk.Id).Count);
        }
        Assert.Equal(4, _gateway.Reports.Count);
    }

    [Fact]
    public async Task A_redelivered_FileStored_makes_no_extra_copy_and_no_duplicate_report()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N3, Ct);
        _gateway.SetNodes([.. cluster.Ordinary.Select(n => n.Info())]);
        _gateway.AddChunk(chunk, wanted: 3, cluster.N3);
        var message = Stored("/a.bin", 3, (chunk, cluster.N3));

        await _harness.Bus.Publish(message, Ct);
        Assert.Null((await ConsumedAsync(message.FileId)).Exception);
        var reportsAfterFirst = _gateway.Reports;

        // The same message again, holders in it still saying "one copy", as a redelivery would.
        await _harness.Bus.Publish(message, Ct);
        var consumer = _harness.GetConsumerHarness<FileStoredConsumer>();
        // Take(2): the list's enumeration ends at the second delivery, not at the harness's inactivity timeout.
        await WaitUntilAsync(() => consumer.Consumed.Select<FileStored>(m => m.Context.Message.FileId == message.FileId, Ct).Take(2).Count() == 2);

        Assert.Equal(2, reportsAfterFirst.Count);
        Assert.Equal(reportsAfterFirst, _gateway.Reports);
        // First delivery: the consumer's look-up and the replicator's fresh look-up under the chunk's lock;
        // the redelivery finds nothing pending after its own look-up.
        Assert.Equal(3, _gateway.StateRequests(chunk.Id));
        Assert.Equal(3, (await TestChunk.HoldersAsync(chunk, cluster.Ordinary, Ct)).Count);
    }

    [Fact]
    public async Task FileStored_whose_every_target_refuses_is_retried_per_the_definition_then_faults()
    {
        using var faults = new CounterProbe(_services, "dfs.replicator.consumer_faults");
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes(cluster.N1.Info(), cluster.Full.Info());
        _gateway.AddChunk(chunk, wanted: 2, cluster.N1);
        var message = Stored("/never.bin", 2, (chunk, cluster.N1));

        await _harness.Bus.Publish(message, Ct);

        Assert.True(await _harness.Published.Any<Fault<FileStored>>(m => m.Context.Message.Message.FileId == message.FileId, Ct));
        var consumed = await ConsumedAsync(message.FileId);
        Assert.NotNull(consumed.Exception);
        // Immediate 1 + exponential 2 (TestSettings) after the first attempt; each attempt asks for the state
        // twice (the consumer, then the replicator under the chunk's lock).
        Assert.Equal(8, _gateway.StateRequests(chunk.Id));
        Assert.Equal(4, faults.Total);
        Assert.Empty(_gateway.Reports);
        Assert.False(await StorageCluster.NodeClient.HasChunkAsync(cluster.Full.Url, chunk.Id, Ct));
    }

    [Fact]
    public async Task FileStored_with_fewer_live_nodes_than_wanted_copies_to_all_and_does_not_fault()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        _gateway.SetNodes(cluster.N1.Info(), cluster.N2.Info(), cluster.N3.Info(NodeStates.Dead));
        _gateway.AddChunk(chunk, wanted: 3, cluster.N1);
        var message = Stored("/wide.bin", 3, (chunk, cluster.N1));

        await _harness.Bus.Publish(message, Ct);

        Assert.Null((await ConsumedAsync(message.FileId)).Exception);
        Assert.Equal(2, _gateway.StateRequests(chunk.Id));
        Assert.True(await chunk.IsIntactOnAsync(cluster.N2, Ct));
        Assert.Equal([cluster.N1.Id, cluster.N2.Id], _gateway.Holders(chunk.Id));
    }

    [Fact]
    public async Task NodeLost_runs_a_reconcile_pass_at_once()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N4, Ct);
        _gateway.SetNodes(cluster.N1.Info(NodeStates.Dead), cluster.N2.Info(), cluster.N4.Info());
        _gateway.AddChunk(chunk, wanted: 2, cluster.N1, cluster.N4);
        _gateway.ServeWork = true;
        var lost = new NodeLost(cluster.N1.Id, cluster.N1.Name, DateTime.UtcNow.AddSeconds(-20));

        await _harness.Bus.Publish(lost, Ct);

        var consumer = _harness.GetConsumerHarness<NodeLostConsumer>();
        Assert.True(await consumer.Consumed.Any<NodeLost>(Ct));
        Assert.Null(consumer.Consumed.Select<NodeLost>(Ct).First().Exception);
        Assert.True(await chunk.IsIntactOnAsync(cluster.N2, Ct));
        Assert.Contains(cluster.N2.Id, _gateway.Holders(chunk.Id));
        Assert.Equal(1, _gateway.WorkRequests);
    }

    [Fact]
    public async Task NodeDraining_runs_a_reconcile_pass_that_copies_off_the_draining_node()
    {
        var chunk = TestChunk.Random();
        await chunk.PutOnAsync(cluster.N1, Ct);
        // N1 drains and holds the only copy: N2 and N3 take copies (from N1), N1 itself is no target.
        _gateway.SetNodes(cluster.N1.Info(draining: true), cluster.N2.Info(), cluster.N3.Info());
        _gateway.AddChunk(chunk, wanted: 2, cluster.N1);
        _gateway.ServeWork = true;
        var draining = new NodeDraining(cluster.N1.Id, cluster.N1.Name, DateTime.UtcNow);

        await _harness.Bus.Publish(draining, Ct);

        var consumer = _harness.GetConsumerHarness<NodeDrainingConsumer>();
        Assert.True(await consumer.Consumed.Any<NodeDraining>(Ct));
        Assert.Null(consumer.Consumed.Select<NodeDraining>(Ct).First().Exception);
        Assert.True(await chunk.IsIntactOnAsync(cluster.N2, Ct));
        Assert.True(await chunk.IsIntactOnAsync(cluster.N3, Ct));
        Assert.Equal(new[] { cluster.N1.Id, cluster.N2.Id, cluster.N3.Id }.Order(), _gateway.Holders(chunk.Id).Order());
        Assert.Equal(new[] { cluster.N2.Id, cluster.N3.Id }.Order(), _gateway.State(chunk).Holders.Order());
        Assert.DoesNotContain(_gateway.Reports, r => r.NodeId == cluster.N1.Id);
        Assert.Equal(1, _gateway.WorkRequests);
    }

    [Fact]
    public async Task FileDeleted_is_counted()
    {
        using var deleted = new CounterProbe(_services, "dfs.replicator.files_deleted");

        await _harness.Bus.Publish(new FileDeleted(Guid.NewGuid(), "/gone.txt", [TestChunk.Random(10).Id], DateTime.UtcNow), Ct);

        var consumer = _harness.GetConsumerHarness<FileDeletedConsumer>();
        Assert.True(await consumer.Consumed.Any<FileDeleted>(Ct));
        Assert.Equal(1, deleted.Total);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Sums one counter of the Dfs.Replicator meter created by this test's service provider only.</summary>
    private sealed class CounterProbe : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public CounterProbe(IServiceProvider services, string instrument)
        {
            var factory = services.GetRequiredService<IMeterFactory>();
            _ = services.GetRequiredService<ReplicatorMetrics>();
            _listener.InstrumentPublished = (i, l) =>
            {
                if (i.Meter.Name == ReplicatorTelemetry.Name && ReferenceEquals(i.Meter.Scope, factory) && i.Name == instrument)
                    l.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
