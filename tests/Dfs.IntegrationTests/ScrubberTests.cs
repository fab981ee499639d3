using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.IntegrationTests;

/// <summary>
/// The real cluster of <see cref="ReplicationFixture"/> (four nodes, three copies, 256 KiB chunks) with every node
/// scrubbing fast: a pass every 2 s at up to 256 MiB/s. The gateway keeps no chunks in its cache, so every read goes to
/// the nodes.
/// </summary>
public sealed class ScrubFixture : IAsyncLifetime
{
    public const int PeriodSeconds = 2;

    public DfsTestCluster App { get; private set; } = null!;
    public IGatewayApi Gateway { get; private set; } = null!;

    public async ValueTask InitializeAsync()
    {
        App = await DfsTestCluster.StartAsync(o =>
        {
            o.Nodes = 4;
            o.ReplicationFactor = 3;
            o.ChunkSizeBytes = ReplicationFixture.ChunkSize;
            o.ReconcileIntervalMs = 1000;
            o.ResourceEnvironment["replicator"] = ReplicationTiming.FastRetries;
            o.ResourceEnvironment["gateway"] = new() { ["Dfs__Gateway__Cache__SmallChunkBytes"] = "0" };
            for (var i = 1; i <= o.Nodes; i++)
                o.ResourceEnvironment[$"node-{i}"] = new()
                {
                    ["Dfs__StorageNode__Scrub__PeriodSeconds"] = PeriodSeconds.ToString(CultureInfo.InvariantCulture),
                    ["Dfs__StorageNode__Scrub__BytesPerSecond"] = (256 * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
                };
        }, TestContext.Current.CancellationToken);
        Gateway = App.CreateGateway();
    }

    public async ValueTask DisposeAsync()
    {
        if (App is not null) await App.DisposeAsync();
    }
}

/// <summary>Bitrot on the nodes' disks: found by the scrubbers, repaired from good copies, and never served meanwhile.</summary>
public sealed class ScrubberTests(ScrubFixture cluster) : IClassFixture<ScrubFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Soon = TimeSpan.FromSeconds(30);

    /// <summary>A few scrub periods: a pass reaches each flipped copy within about one, reporting and re-replicating take about one more.</summary>
    private static readonly TimeSpan RepairLimit = TimeSpan.FromSeconds(10 * ScrubFixture.PeriodSeconds);

    private readonly StorageNodeClient _nodes = new(cluster.App.CreateClusterHttpClient);

    [Fact]
    public async Task Flipped_bytes_in_a_quarter_of_the_copies_are_all_found_and_repaired_and_never_served()
    {
        var random = new Random(20270112);
        var files = new Dictionary<string, string>();
        for (var i = 0; i < 20; i++)
        {
            // Every third file spans two to four chunks, the rest fit in one.
            var size = i % 3 == 0
                ? random.NextInt64(ReplicationFixture.ChunkSize + 1, 4 * ReplicationFixture.ChunkSize)
                : random.NextInt64(1, ReplicationFixture.ChunkSize);
            var data = TestData.Random(size, 9000 + i);
            var path = $"/scrub/file-{i:D2}.bin";
            await cluster.Gateway.PutFileAsync(path, new MemoryStream(data), ct: Ct);
            files[path] = TestData.Sha256(data);
        }
        var chunks = new List<ChunkInfo>();
        foreach (var path in files.Keys)
            chunks.AddRange((await ReplicationTiming.WaitForCopiesAsync(cluster.Gateway, path, 3, Soon, Ct)).Chunks);
        var copies = chunks.Sum(c => c.Replicas.Count);
        Assert.True(chunks.Count >= 25, $"only {chunks.Count} chunks");

        // A quarter of all copies, drawn among those a read does not try first (stat lists them in the gateway's read
        // order): a read that meets a bad copy drops it itself (ReplicationTests covers that), taking the finding from
        // the scrubbers this test measures. So at most two of a chunk's three copies, never all of them.
        var candidates = chunks.SelectMany(c => c.Replicas.Skip(1).Select(r => (Chunk: c, Node: r.NodeName))).ToArray();
        random.Shuffle(candidates);
        var flipped = candidates.Take(copies / 4).ToList();
        var before = await NodeStatusesAsync();

        using var stopReading = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var reads = new ReadLog();
        var reader = Task.Run(() => ReadContinuouslyAsync(files, reads, stopReading.Token), Ct);
        double repairSeconds;
        try
        {
            await NodeWaits.UntilAsync(() => Task.FromResult(reads.Good >= files.Count || reader.IsCompleted), Soon, "reads never got going", Ct);

            var flippedAt = Stopwatch.GetTimestamp();
            foreach (var (chunk, node) in flipped) FlipByte(cluster.App.ChunkFilePath(node, chunk.Id), chunk.Size, random);

            var expected = before.ToDictionary(s => s.Key, s => s.Value.Scrub!.CorruptChunks + flipped.Count(f => f.Node == s.Key));
            var deadline = DateTime.UtcNow + RepairLimit;
            while (true)
            {
                var now = await NodeStatusesAsync();
                // A scrubber that finds more than was flipped took a good copy for a bad one: no point waiting.
                Assert.All(now, n => Assert.True(n.Value.Scrub!.CorruptChunks <= expected[n.Key], $"{n.Key}: {n.Value.Scrub} but {expected[n.Key]} flipped"));
                var unrepaired = await UnrepairedAsync(files.Keys);
                if (now.All(n => n.Value.Scrub!.CorruptChunks == expected[n.Key] && n.Value.Scrub.AwaitingReport == 0) && unrepaired.Count == 0) break;
                if (DateTime.UtcNow > deadline)
                    Assert.Fail($"not every flipped copy was found and repaired within {RepairLimit.TotalSeconds} s: found "
                                + string.Join(", ", now.Select(n => $"{n.Key} {n.Value.Scrub!.CorruptChunks}/{expected[n.Key]} ({n.Value.Scrub.AwaitingReport} unacknowledged)"))
                                + $"; unrepaired: {(unrepaired.Count == 0 ? "none" : string.Join(", ", unrepaired))}");
                await Task.Delay(500, Ct);
            }
            repairSeconds = Stopwatch.GetElapsedTime(flippedAt).TotalSeconds;

            // A little more reading from the repaired copies before the verdict on every read made.
            await Task.Delay(TimeSpan.FromSeconds(1), Ct);
        }
        finally
        {
            await stopReading.CancelAsync();
            await reader;
        }
        Assert.True(reads.Bad.IsEmpty, $"{reads.Bad.Count} reads went wrong: {string.Join("; ", reads.Bad.Take(5))}");
        Assert.True(reads.Good >= 3 * files.Count, $"only {reads.Good} reads");

        // Every chunk file on every node, listed as a copy or not, holds its bytes again; no quarantined file is left.
        foreach (var node in cluster.App.StorageNodes.Where(n => Directory.Exists(cluster.App.Cluster.StorageNodeDataDirectory(n))))
        {
            var dataDir = cluster.App.Cluster.StorageNodeDataDirectory(node);
            foreach (var file in Directory.EnumerateFiles(Path.Combine(dataDir, "chunks"), "*", SearchOption.AllDirectories))
                Assert.True(Path.GetFileName(file) == TestData.Sha256(await File.ReadAllBytesAsync(file, Ct)), $"{file} does not hold its bytes");
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(dataDir, "quarantine")));
        }
        TestContext.Current.SendDiagnosticMessage(
            $"{flipped.Count} of {copies} copies ({chunks.Count} chunks) flipped; all found and repaired in {repairSeconds:F1} s; {reads.Good} correct reads meanwhile");
    }

    /// <summary>Bitrot: one byte of the chunk file changed in place, behind its node's back.</summary>
    private static void FlipByte(string path, long size, Random random)
    {
        var offset = random.NextInt64(size);
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        var value = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(value ^ random.Next(1, 256)));
    }

    /// <summary>Downloads every file through the gateway, again and again, recording any that failed or came back wrong.</summary>
    private async Task ReadContinuouslyAsync(Dictionary<string, string> files, ReadLog log, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            foreach (var (path, sha256) in files)
            {
                try
                {
                    var read = await cluster.Gateway.DownloadSha256Async(path, ct);
                    if (read == sha256) log.Success();
                    else log.Bad.Enqueue($"{path}: SHA-256 {read}, wrote {sha256}");
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    log.Bad.Enqueue($"{path}: {e.GetType().Name}: {e.Message}");
                }
            }
        }
    }

    /// <summary>Chunks that do not yet have three live copies, or that list a copy whose file does not hold their bytes.</summary>
    private async Task<List<string>> UnrepairedAsync(IEnumerable<string> paths)
    {
        var wrong = new List<string>();
        foreach (var path in paths)
            foreach (var chunk in (await cluster.Gateway.StatAsync(path, Ct)).Chunks)
            {
                var good = chunk.Replicas.Count(r => r.NodeState == NodeStates.Live && HoldsItsBytes(cluster.App.ChunkFilePath(r.NodeName, chunk.Id), chunk.Id));
                if (good < 3 || good < chunk.Replicas.Count) wrong.Add($"{chunk.Id[..8]} {good} good of {chunk.Replicas.Count}");
            }
        return wrong;
    }

    private static bool HoldsItsBytes(string path, string chunkId)
    {
        try
        {
            return TestData.Sha256(File.ReadAllBytes(path)) == chunkId;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return false;
        }
    }

    /// <summary>Every node's GET /status, signed as the cluster's members sign (a node answers no one else).</summary>
    private async Task<IReadOnlyDictionary<string, StorageNodeStatus>> NodeStatusesAsync()
    {
        var statuses = new Dictionary<string, StorageNodeStatus>();
        foreach (var node in await cluster.Gateway.GetNodesAsync(Ct))
            statuses[node.Name] = await _nodes.GetStatusAsync(new Uri(node.Url), Ct);
        return statuses;
    }

    private sealed class ReadLog
    {
        private int _good;
        public int Good => Volatile.Read(ref _good);
        public ConcurrentQueue<string> Bad { get; } = new();
        public void Success() => Interlocked.Increment(ref _good);
    }
}
