using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Dfs.Chaos.Checking;
using Dfs.Chaos.Cluster;
using Dfs.Chaos.Faults;
using Dfs.Chaos.Workload;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Chaos;

/// <summary>The run's settings (see Program for the switches).</summary>
public sealed record ChaosOptions(int Seed, TimeSpan Duration, int MinOperations, int Clients, int Nodes, int SharedNames, string? Markdown, string? Json,
    string? HistoryFile, IReadOnlyList<FaultKind> Faults);

/// <summary>What a run measured: the history's verdict and the figures of docs/reliability.md.</summary>
public sealed record ChaosReport(
    ChaosOptions Options,
    DateTime StartedAt,
    double WorkloadSeconds,
    IReadOnlyDictionary<OpKind, int[]> Operations,
    IReadOnlyDictionary<FaultKind, (int Count, double Seconds, int Errors)> Faults,
    CheckResult Check,
    int UnavailableSeconds,
    double? FullReplicationSeconds,
    int ListingMismatches,
    int LeakedChunks,
    IReadOnlyList<FaultEvent> FaultLog)
{
    public int TotalOperations => Operations.Values.Sum(v => v.Sum());

    public bool Passed => Check.AcknowledgedWritesLost == 0 && Check.WrongReads == 0 && Check.StaleReads == 0 && Check.UnreadableAfterHeal == 0
                          && ListingMismatches == 0 && LeakedChunks == 0 && FullReplicationSeconds is not null;
}

/// <summary>
/// One chaos run: the cluster across namespaces, the clients and the nemesis for the set time, then healing and the
/// checks after it (replication restored, every path read back, listings, no leaked chunk after the GC grace period).
/// </summary>
public static class ChaosRun
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(20);
    private static readonly TimeSpan HealLimit = TimeSpan.FromMinutes(5);

    public static async Task<ChaosReport> RunAsync(ChaosOptions options, TextWriter log, CancellationToken ct)
    {
        var startedAt = DateTime.UtcNow;
        var state = Path.Combine(Path.GetTempPath(), $"dfs-chaos-{options.Seed}-{startedAt:yyyyMMdd-HHmmss}");
        Directory.CreateDirectory(state);
        log.WriteLine($"state and logs: {state} (kept when the run fails)");
        ChaosReport report;
        await using (var cluster = await ChaosCluster.StartAsync(options.Nodes, state, log, ct))
            report = await RunAsync(cluster, options, startedAt, log, ct);
        if (report.Passed) Directory.Delete(state, recursive: true);
        return report;
    }

    private static async Task<ChaosReport> RunAsync(ChaosCluster cluster, ChaosOptions options, DateTime startedAt, TextWriter log, CancellationToken ct)
    {
        using var http = cluster.CreateAdminClient(Timeout.InfiniteTimeSpan);
        var history = new History();
        var shape = new WorkloadShape(options.SharedNames, RequestTimeout);
        var clients = Enumerable.Range(1, options.Clients).Select(i => new ChaosClient(i, options.Seed, http, history, shape)).ToList();
        var gateway = DfsRefit.Gateway(http);
        await gateway.MkdirAsync(ChaosClient.SharedDirectory, parents: true, ct);
        foreach (var client in clients) await gateway.MkdirAsync(client.OwnDirectory, parents: true, ct);

        log.WriteLine($"workload: {options.Clients} clients, {options.SharedNames} shared names, {options.Duration.TotalSeconds:0} s and at least {options.MinOperations} operations; faults:");
        var nemesis = new Nemesis(cluster, history, options.Seed, options.Faults, log);
        using var stopClients = new CancellationTokenSource();
        using var stopNemesis = new CancellationTokenSource();
        var running = clients.Select(c => Task.Run(() => c.RunAsync(stopClients.Token), CancellationToken.None)).ToList();
        var faults = Task.Run(() => nemesis.RunAsync(stopNemesis.Token), CancellationToken.None);
        var clock = Stopwatch.StartNew();
        while ((clock.Elapsed < options.Duration || history.Count < options.MinOperations) && !ct.IsCancellationRequested)
            await Task.Delay(500, CancellationToken.None);
        await stopNemesis.CancelAsync();
        await faults;
        await stopClients.CancelAsync();
        await Task.WhenAll(running);
        var workloadSeconds = clock.Elapsed.TotalSeconds;
        log.WriteLine($"workload done: {history.Count} operations in {workloadSeconds:0} s; healing");

        await nemesis.HealEverythingAsync();
        var healed = Stopwatch.StartNew();
        await cluster.WaitForLiveNodesAsync(options.Nodes, HealLimit, ct);
        var replicated = await WaitForFullReplicationAsync(gateway, ct) ? healed.Elapsed.TotalSeconds : (double?)null;
        log.WriteLine(replicated is { } r ? $"every chunk at its replication factor {r:0.0} s after healing" : "replication NOT restored");

        var reader = new ChaosClient(0, options.Seed, http, history, shape);
        var ops = history.Ops;
        var paths = ops.Where(o => o.IsMutation).SelectMany(o => o.To is null ? [o.Path] : new[] { o.Path, o.To }).Distinct(StringComparer.Ordinal).ToList();
        var finals = new List<FinalRead>();
        foreach (var path in paths) finals.Add(await ReadFinalAsync(reader, path, history, ct));
        var listingMismatches = await CompareListingsAsync(gateway, finals, clients, log, ct);
        var leaked = await CountLeakedChunksAsync(cluster, gateway, finals, log, ct);

        if (options.HistoryFile is { } historyFile) await WriteHistoryAsync(historyFile, ops, nemesis.Events, ct);
        var check = HistoryChecker.Check(ops, finals);
        foreach (var violation in check.Violations.Take(50)) log.WriteLine($"VIOLATION {violation.Kind} {violation.Path}: {violation.Detail}");
        var operations = Enum.GetValues<OpKind>().ToDictionary(k => k, k => new[]
        {
            ops.Count(o => o.Kind == k && o.Outcome == OpOutcome.Ok),
            ops.Count(o => o.Kind == k && o.Outcome == OpOutcome.Failed),
            ops.Count(o => o.Kind == k && o.Outcome == OpOutcome.Unknown),
        });
        var events = nemesis.Events;
        var faultTable = events.GroupBy(e => e.Kind).ToDictionary(g => g.Key, g => (g.Count(), g.Sum(e => (e.End - e.Start) / 1000), g.Count(e => e.Error is not null)));
        return new ChaosReport(options, startedAt, workloadSeconds, operations, faultTable, check, UnavailableSeconds(ops, workloadSeconds),
            replicated, listingMismatches, leaked, events);
    }

    /// <summary>Every operation and fault, one JSON object per line, in the order they ended: the evidence behind a verdict.</summary>
    private static async Task WriteHistoryAsync(string path, IReadOnlyList<Op> ops, IReadOnlyList<FaultEvent> faults, CancellationToken ct)
    {
        var json = new System.Text.Json.JsonSerializerOptions { Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() } };
        await using var file = new StreamWriter(path);
        var lines = ops.Select(o => (o.End, Line: System.Text.Json.JsonSerializer.Serialize(o, json)))
            .Concat(faults.Select(f => (f.End, Line: System.Text.Json.JsonSerializer.Serialize(f, json))))
            .OrderBy(l => l.End);
        foreach (var (_, line) in lines) await file.WriteLineAsync(line.AsMemory(), ct);
    }

    /// <summary>Seconds of the workload in which no operation got an answer (every one failed to reach a verdict).</summary>
    private static int UnavailableSeconds(IReadOnlyList<Op> ops, double workloadSeconds)
    {
        var answered = ops.Where(o => o.Outcome != OpOutcome.Unknown).Select(o => (int)(o.End / 1000)).ToHashSet();
        return Enumerable.Range(0, (int)workloadSeconds).Count(s => !answered.Contains(s));
    }

    private static async Task<bool> WaitForFullReplicationAsync(IGatewayApi gateway, CancellationToken ct)
    {
        var limit = Stopwatch.StartNew();
        while (limit.Elapsed < HealLimit)
        {
            try
            {
                if ((await gateway.GetReplicationAsync(ct)).UnderReplicatedChunks == 0) return true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
            }
            await Task.Delay(500, ct);
        }
        return false;
    }

    /// <summary>A path's content after healing: retried while the answer is unknown (a service still coming back).</summary>
    private static async Task<FinalRead> ReadFinalAsync(ChaosClient reader, string path, History history, CancellationToken ct)
    {
        var limit = Stopwatch.StartNew();
        while (true)
        {
            var read = await reader.ReadAsync(path);
            if (read.Outcome == OpOutcome.Ok)
                return new FinalRead(path, read.ReadWrite, read.BadBytes, false, read.ReadWrite > 0 ? history.Write(read.ReadWrite)?.Size ?? -1 : 0);
            if (limit.Elapsed > TimeSpan.FromMinutes(1)) return new FinalRead(path, 0, false, true, 0);
            await Task.Delay(1000, ct);
        }
    }

    /// <summary>Each folder's listing must hold exactly the files read back, with their sizes.</summary>
    private static async Task<int> CompareListingsAsync(IGatewayApi gateway, IReadOnlyList<FinalRead> finals, IReadOnlyList<ChaosClient> clients,
        TextWriter log, CancellationToken ct)
    {
        var mismatches = 0;
        foreach (var directory in clients.Select(c => c.OwnDirectory).Prepend(ChaosClient.SharedDirectory))
        {
            var listed = new Dictionary<string, long>(StringComparer.Ordinal);
            string? cursor = null;
            do
            {
                var page = await gateway.ListAsync(directory, cursor, 1000, ct);
                foreach (var entry in page.Entries) listed[entry.Path] = entry.Size;
                cursor = page.NextCursor;
            } while (cursor is not null);
            var present = finals.Where(f => f.WriteId > 0 && f.Path.StartsWith(directory + "/", StringComparison.Ordinal)).ToDictionary(f => f.Path, f => f.Size, StringComparer.Ordinal);
            foreach (var (path, size) in present)
            {
                if (listed.TryGetValue(path, out var listedSize) && listedSize == size) continue;
                mismatches++;
                log.WriteLine($"LISTING {directory}: {path} read back ({size} bytes) but listed as {(listed.TryGetValue(path, out var s) ? $"{s} bytes" : "absent")}");
            }
            foreach (var path in listed.Keys.Where(p => !present.ContainsKey(p)))
            {
                mismatches++;
                log.WriteLine($"LISTING {directory}: {path} listed but not found when read");
            }
        }
        return mismatches;
    }

    /// <summary>
    /// Chunks on the nodes that no file references, once the GC grace period has passed (waited for, and a minute more at
    /// most for the collector to get round to them).
    /// </summary>
    private static async Task<int> CountLeakedChunksAsync(ChaosCluster cluster, IGatewayApi gateway, IReadOnlyList<FinalRead> finals, TextWriter log, CancellationToken ct)
    {
        var referenced = new HashSet<string>(StringComparer.Ordinal);
        foreach (var final in finals.Where(f => f.WriteId > 0))
        {
            var stat = await gateway.StatAsync(final.Path, ct);
            foreach (var chunk in stat.Chunks.Where(c => !c.Inline)) referenced.Add(chunk.Id);
        }
        var nodes = new StorageNodeClient(cluster.App.CreateClusterHttpClient);
        var limit = Stopwatch.StartNew();
        await Task.Delay(ChaosCluster.GcGraceMs + 2000, ct);
        while (true)
        {
            var leaked = new List<(string Node, string Chunk)>();
            foreach (var node in cluster.Nodes)
            {
                string? after = null;
                do
                {
                    var page = await nodes.ListChunksAsync(node.Url, after, 10_000, ct);
                    leaked.AddRange(page.Chunks.Where(c => !referenced.Contains(c.Id)).Select(c => (node.Name, c.Id)));
                    after = page.NextAfter;
                } while (after is not null);
            }
            if (leaked.Count == 0 || limit.Elapsed > TimeSpan.FromMinutes(1))
            {
                foreach (var (node, chunk) in leaked.Take(20)) log.WriteLine($"LEAK {node}: chunk {chunk} is referenced by no file");
                return leaked.Count;
            }
            await Task.Delay(2000, ct);
        }
    }
}
