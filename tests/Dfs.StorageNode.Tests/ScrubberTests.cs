using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Scrubbing;
using Dfs.StorageNode.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.StorageNode.Tests;

/// <summary>The bitrot scrubber: corrupt copies are found, taken out of service, reported until acknowledged; passes are paced and resumable.</summary>
public sealed class ScrubberTests
{
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);
    private const long Fast = 64 * 1024 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_corrupted_chunk_is_no_longer_served_is_reported_and_a_good_copy_can_come_back()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        await using var node = NodeHost.Start(Settings(gateway, periodSeconds: 1));
        using var meters = new NodeMeters(node);
        var chunks = Enumerable.Range(0, 4).Select(i => TestChunks.Random(50_000 + i)).ToList();
        foreach (var (id, bytes) in chunks) await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
        var (badId, badBytes) = chunks[2];

        FlipByte(node, badId, 12_345);

        Assert.True(await TestChunks.EventuallyAsync(() => !gateway.CorruptReports.IsEmpty, Soon), "the corrupt copy was never reported");
        var nodeId = (await node.Client.GetStatusAsync(node.Url, Ct)).NodeId;
        Assert.Equal(new CorruptReplicaReport(badId, nodeId), Assert.Single(gateway.CorruptReports));
        using (var get = await node.Http.GetAsync($"chunks/{badId}", Ct))
            Assert.Equal(HttpStatusCode.NotFound, get.StatusCode);
        Assert.False(await node.Client.HasChunkAsync(node.Url, badId, Ct));
        foreach (var (id, bytes) in chunks.Where(c => c.Id != badId)) Assert.Equal(bytes, await ReadAsync(node, id));
        Assert.DoesNotContain(badId, (await node.Client.ListChunksAsync(node.Url, ct: Ct)).Chunks.Select(c => c.Id));

        // Acknowledged: the quarantined file is deleted; the copy no longer counts in the node's usage.
        Assert.True(await TestChunks.EventuallyAsync(() => !Directory.EnumerateFiles(QuarantineDir(node)).Any(), Soon));
        var status = await node.Client.GetStatusAsync(node.Url, Ct);
        Assert.Equal((3, chunks.Sum(c => (long)c.Bytes.Length) - badBytes.Length), (status.Usage.ChunkCount, status.Usage.UsedBytes));
        var scrub = Assert.IsType<ScrubStatus>(status.Scrub);
        Assert.True(scrub.Enabled);
        Assert.Equal((1, 0), (scrub.CorruptChunks, scrub.AwaitingReport));
        Assert.True(scrub.TotalChunks >= 4 && scrub.TotalBytes >= chunks.Sum(c => (long)c.Bytes.Length), $"{scrub}");

        // The Replicator's new copy may land on this very node: it is stored and served like any other.
        Assert.True(await node.Client.PutChunkAsync(node.Url, badId, badBytes, Ct));
        Assert.Equal(badBytes, await ReadAsync(node, badId));
        Assert.Equal(4, (await node.Client.GetStatusAsync(node.Url, Ct)).Usage.ChunkCount);

        // Two more whole passes over the good copy find nothing more.
        var passes = scrub.PassesCompleted;
        Assert.True(await TestChunks.EventuallyAsync(() => Status(node).Scrub!.PassesCompleted >= passes + 2, Soon));
        Assert.Single(gateway.CorruptReports);
        Assert.Equal(1, Status(node).Scrub!.CorruptChunks);

        Assert.Equal(1, meters.Total("dfs.storage_node.scrub.corrupt"));
        Assert.True(meters.Total("dfs.storage_node.scrub.chunks") >= 4 + 2 * 4);
        Assert.True(meters.Total("dfs.storage_node.scrub.bytes") >= chunks.Sum(c => (long)c.Bytes.Length));
        Assert.True(meters.Total("dfs.storage_node.scrub.passes") >= 2);
        var progress = meters.Observe("dfs.storage_node.scrub.pass_progress");
        Assert.InRange(progress, 0, 1);
        Assert.Equal(0, meters.Observe("dfs.storage_node.scrub.awaiting_report"));
    }

    [Fact]
    public async Task Reports_the_gateway_does_not_acknowledge_stay_in_quarantine_across_a_restart_and_are_sent_until_it_does()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        gateway.FailCorruptReports = true;
        using var dataDir = new TempDir();
        var (goodId, goodBytes) = TestChunks.Random(30_000);
        var (badId, badBytes) = TestChunks.Random(40_000);

        await using (var node = NodeHost.Start(Settings(gateway, periodSeconds: 1), dataDir))
        {
            await node.Client.PutChunkAsync(node.Url, goodId, goodBytes, Ct);
            await node.Client.PutChunkAsync(node.Url, badId, badBytes, Ct);
            FlipByte(node, badId, 0);

            Assert.True(await TestChunks.EventuallyAsync(
                    () => File.Exists(Path.Combine(QuarantineDir(node), badId)) && gateway.CorruptReportAttempts >= 2 && Status(node).Scrub!.AwaitingReport == 1, Soon),
                "the corrupt copy was not quarantined and reported again");
            Assert.False(await node.Client.HasChunkAsync(node.Url, badId, Ct));
            var scrub = Status(node).Scrub!;
            Assert.Equal((1, 1), (scrub.CorruptChunks, scrub.AwaitingReport));

            // A good copy arriving while the report waits is stored and served: the quarantined file is no obstacle.
            Assert.True(await node.Client.PutChunkAsync(node.Url, badId, badBytes, Ct));
            Assert.Equal(badBytes, await ReadAsync(node, badId));
        }

        await using (var node = NodeHost.Start(Settings(gateway, periodSeconds: 1), dataDir))
        {
            // Quarantined files are not chunks: not counted at start, not listed.
            var usage = Status(node).Usage;
            Assert.Equal((2, (long)goodBytes.Length + badBytes.Length), (usage.ChunkCount, usage.UsedBytes));
            Assert.True(File.Exists(Path.Combine(QuarantineDir(node), badId)));
            var attempts = gateway.CorruptReportAttempts;
            Assert.True(await TestChunks.EventuallyAsync(() => gateway.CorruptReportAttempts > attempts, Soon), "the restarted node did not report again");
            Assert.Empty(gateway.CorruptReports);

            gateway.FailCorruptReports = false;
            Assert.True(await TestChunks.EventuallyAsync(() => !gateway.CorruptReports.IsEmpty && !File.Exists(Path.Combine(QuarantineDir(node), badId)), Soon));
            var nodeId = Status(node).NodeId;
            Assert.Equal(new CorruptReplicaReport(badId, nodeId), Assert.Single(gateway.CorruptReports));
            // The report dropped the record of whatever copy this node had; the good one in place is reported back.
            Assert.Contains(new ReplicaReport(badId, nodeId), gateway.ReplicaReports);
            Assert.Equal(0, Status(node).Scrub!.AwaitingReport);
            Assert.Equal(badBytes, await ReadAsync(node, badId));
        }
    }

    [Fact]
    public async Task A_restarted_node_resumes_its_pass_where_it_stopped_and_keeps_the_period_between_passes()
    {
        using var dataDir = new TempDir();
        // In place before the first start, so the first pass has them all to read.
        var chunks = Enumerable.Range(0, 16).Select(_ => TestChunks.Random(16 * 1024)).ToList();
        foreach (var (id, bytes) in chunks)
        {
            var path = Path.Combine(dataDir.Path, "chunks", id[..2], id[2..4], id);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllBytesAsync(path, bytes, Ct);
        }
        // About 0.2 s a chunk: slow enough to stop the node in the middle of the pass.
        var settings = Settings(null, periodSeconds: 3600, bytesPerSecond: 128 * 1024);

        ScrubStatus stopped;
        await using (var node = NodeHost.Start(settings, dataDir))
        {
            Assert.True(await TestChunks.EventuallyAsync(() => Status(node).Scrub!.PassChunks >= 3, Soon));
            stopped = Status(node).Scrub!;
        }
        Assert.NotNull(stopped.PassStartedAt);
        Assert.True(stopped.PassChunks < chunks.Count, $"the pass ended before the node was stopped: {stopped}");

        ScrubStatus done;
        await using (var node = NodeHost.Start(settings, dataDir))
        {
            var resumed = Status(node).Scrub!;
            Assert.Equal(stopped.PassStartedAt, resumed.PassStartedAt);
            Assert.True(resumed.PassChunks >= stopped.PassChunks, $"{resumed} after {stopped}");
            Assert.True(await TestChunks.EventuallyAsync(() => Status(node).Scrub!.PassesCompleted == 1, Soon));
            done = Status(node).Scrub!;
        }
        // Every chunk once: resumed after the last one scrubbed, not started over.
        Assert.Equal(chunks.Count, done.PassChunks);
        Assert.Equal(chunks.Sum(c => (long)c.Bytes.Length), done.PassBytes);
        Assert.Null(done.PassStartedAt);
        Assert.NotNull(done.LastPassCompletedAt);
        Assert.Equal(stopped.PassStartedAt!.Value.AddSeconds(3600), done.NextPassAt);
        Assert.Equal(1, done.PassProgress);

        // A restart does not start the next pass early.
        await using (var node = NodeHost.Start(settings, dataDir))
        {
            await Task.Delay(500, Ct);
            var later = Status(node).Scrub!;
            Assert.Equal((1, (DateTime?)null, done.NextPassAt), (later.PassesCompleted, later.PassStartedAt, later.NextPassAt));
            Assert.Equal(0, later.TotalChunks);
        }
    }

    [Fact]
    public async Task With_scrubbing_off_nothing_is_read_and_a_corrupt_copy_stays_where_it_is()
    {
        await using var node = NodeHost.Start(Settings(null, periodSeconds: 1, bytesPerSecond: 0));
        var (id, bytes) = TestChunks.Random(20_000);
        await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
        FlipByte(node, id, 7);

        // Two periods: an enabled scrubber would have found it (the test above finds one within a period or two).
        await Task.Delay(2500, Ct);

        var scrub = Status(node).Scrub!;
        Assert.False(scrub.Enabled);
        Assert.Equal((0, 0, 0), (scrub.PassesCompleted, scrub.TotalChunks, scrub.CorruptChunks));
        Assert.Null(scrub.NextPassAt);
        Assert.True(await node.Client.HasChunkAsync(node.Url, id, Ct));
    }

    [Fact]
    public async Task The_pacer_grants_no_more_than_the_rate_and_saves_up_no_credit_while_idle()
    {
        var clock = new SteppingClock();
        var pacer = new ScrubPacer(1000, clock);

        // Four grants of 500 bytes at 1000 B/s: the first at once, each next one half a second later.
        for (var i = 0; i < 4; i++) await pacer.WaitAsync(500, Ct);
        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(0.5)], clock.Delays);
        Assert.Equal(TimeSpan.FromSeconds(1.5), clock.Elapsed);

        // Idle for ten seconds: the next grant is immediate, but the one after it waits its full share again.
        clock.Advance(TimeSpan.FromSeconds(10));
        clock.Delays.Clear();
        await pacer.WaitAsync(500, Ct);
        await pacer.WaitAsync(2000, Ct);
        await pacer.WaitAsync(1, Ct);
        Assert.Equal([TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(2)], clock.Delays);
    }

    private static Dictionary<string, string?> Settings(RecordingGateway? gateway, int periodSeconds, long bytesPerSecond = Fast)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Dfs:StorageNode:Scrub:PeriodSeconds"] = periodSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Dfs:StorageNode:Scrub:BytesPerSecond"] = bytesPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        if (gateway is not null)
        {
            settings["services:gateway:http:0"] = gateway.Url.ToString();
            settings["Dfs:Cluster:HeartbeatIntervalMs"] = "100";
        }
        return settings;
    }

    private static StorageNodeStatus Status(NodeHost node) => node.Client.GetStatusAsync(node.Url, Ct).GetAwaiter().GetResult();

    private static string QuarantineDir(NodeHost node) => Path.Combine(node.DataDir.Path, "quarantine");

    /// <summary>Bitrot: one byte of the chunk file changed in place, behind the node's back.</summary>
    private static void FlipByte(NodeHost node, string id, long offset)
    {
        var path = Path.Combine(node.ChunksDir, id[..2], id[2..4], id);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = offset;
            var value = file.ReadByte();
            file.Position = offset;
            file.WriteByte((byte)(value ^ 0x5a));
        }
        Assert.NotEqual(id, ChunkIds.Compute(File.ReadAllBytes(path)));
    }

    private static async Task<byte[]> ReadAsync(NodeHost node, string id)
    {
        using var response = await node.Http.GetAsync($"chunks/{id}", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync(Ct);
    }

    /// <summary>This node's "Dfs.StorageNode" instruments (other tests' nodes run in this process too).</summary>
    private sealed class NodeMeters : IDisposable
    {
        private readonly MeterListener _listener;
        private readonly ConcurrentDictionary<string, long> _totals = new();
        private readonly ConcurrentDictionary<string, double> _observed = new();

        public NodeMeters(NodeHost node)
        {
            var scope = node.Services.GetRequiredService<IMeterFactory>();
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, l) =>
                {
                    if (instrument.Meter.Name == "Dfs.StorageNode" && instrument.Meter.Scope == scope) l.EnableMeasurementEvents(instrument);
                },
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => _totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
            _listener.SetMeasurementEventCallback<int>((instrument, value, _, _) => _observed[instrument.Name] = value);
            _listener.SetMeasurementEventCallback<double>((instrument, value, _, _) => _observed[instrument.Name] = value);
            _listener.Start();
        }

        public long Total(string name) => _totals.GetValueOrDefault(name);

        public double Observe(string name)
        {
            _observed.TryRemove(name, out _);
            _listener.RecordObservableInstruments();
            return Assert.Contains(name, (IDictionary<string, double>)_observed);
        }

        public void Dispose() => _listener.Dispose();
    }

    /// <summary>A clock that only moves when told to, or when a delay is waited (it then jumps by the delay at once).</summary>
    private sealed class SteppingClock : TimeProvider
    {
        private long _ticks;

        public List<TimeSpan> Delays { get; } = [];

        public TimeSpan Elapsed => TimeSpan.FromTicks(Interlocked.Read(ref _ticks));

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Delays.Add(dueTime);
            Advance(dueTime);
            // Fired on the pool, never inside CreateTimer: Task.Delay is not set up yet while it creates its timer.
            ThreadPool.QueueUserWorkItem(_ => callback(state));
            return new NoTimer();
        }

        private sealed class NoTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;
            public void Dispose() { }
            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
