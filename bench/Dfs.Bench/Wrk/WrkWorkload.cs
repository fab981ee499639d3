using System.Globalization;
using Dfs.Bench.Results;
using Dfs.Bench.Workloads;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Bench.Wrk;

/// <summary>
/// The 4 KiB figures again, with wrk as the load generator instead of the benchmark's own .NET client, so the client's
/// cost is not charged to Dfs: GET at 16 (and 64) connections of objects stored at replication 3, PUT at 16 connections
/// at replication 1 (each to a new path, answered once durable), nginx beside each in the same run. Its figures and CPU
/// phases are the "wrk" section of the results (ids start with <see cref="IdPrefix"/>, phases with <see cref="PhasePrefix"/>).
/// </summary>
public sealed class WrkWorkload(BenchContext context, WrkTool? wrk, string? problem)
{
    public const string IdPrefix = "wrk.";
    public const string PhasePrefix = "wrk: ";
    public const string CpuComponent = "wrk";

    /// <summary>The PUT figure's connections; the GET figures use these and 64 when the in-process figures do.</summary>
    public const int Connections = 16;

    public static bool Owns(Figure figure) => figure.Id.StartsWith(IdPrefix, StringComparison.Ordinal);

    public static bool Owns(Measuring.PhaseCpu phase) => phase.Phase.StartsWith(PhasePrefix, StringComparison.Ordinal);

    public string? Version => wrk?.Version;

    private BenchOptions Options => context.Options;

    /// <summary>Seconds per figure: --ops-seconds rounded up to wrk's unit, the second; one in short mode (which also skips the warm-up run).</summary>
    public static int SecondsPerFigure(BenchOptions options) => options.Short ? 1 : Math.Max(1, (int)Math.Ceiling(options.SmallObjectDuration.TotalSeconds));

    private int Seconds => SecondsPerFigure(Options);

    private int Objects => Options.Short ? 16 : 256;

    private int[] GetConnections => Options.Short ? [Connections] : [.. new[] { Connections, 64 }.Where(c => c == Connections || Options.Concurrencies.Contains(c))];

    public static async Task<WrkWorkload> CreateAsync(BenchContext context, CancellationToken ct)
    {
        var (tool, problem) = await WrkTool.ProbeAsync(ct);
        if (problem is not null)
        {
            context.Report.RunNote($"wrk figures skipped: {problem}");
            BenchContext.Log($"wrk figures skipped: {problem}");
        }
        else BenchContext.Log($"{tool!.Version} ({tool.Binary}) for the wrk figures");
        return new WrkWorkload(context, tool, problem);
    }

    public async Task RunAsync(int run, CancellationToken ct)
    {
        var gets = GetConnections.Select(c => (c, context.Report.Add($"{IdPrefix}get.c{c}", $"4 KiB GET, {c} connections, replication 3 (wrk)", "ops/s", Better.Higher, "nginx GET (wrk)",
            c == Connections ? new Target(TargetKind.AtLeast, 8000, "ops/s") : null))).ToList();
        var put = context.Report.Add($"{IdPrefix}put.c{Connections}", $"4 KiB PUT, {Connections} connections, replication 1 (wrk)", "ops/s", Better.Higher, "nginx WebDAV PUT (wrk)",
            new Target(TargetKind.AtLeast, 3000, "ops/s"));
        if (wrk is null)
        {
            foreach (var figure in gets.Select(g => g.Item2).Append(put)) figure.Skipped = problem;
            return;
        }

        var root = $"/bench/wrk-r{run}";
        var nginxFolder = $"wrk-r{run}";
        var scratch = Path.Combine(context.Dfs.WorkDirectory, "wrk");
        var seed = Random.Shared.Next(1, int.MaxValue);
        try
        {
            var objects = await StoreObjectsAsync(root + "/get", nginxFolder + "/get", ct);
            var dfsGet = WrkScripts.Get([.. objects.Select(p => ApiRoutes.Files + p)], Authorization, seed);
            var nginxGet = WrkScripts.Get([.. objects.Select(p => "/" + nginxFolder + "/get/" + Path.GetFileName(p))], null, seed);
            foreach (var (c, figure) in gets)
            {
                var dfs = await MeasureAsync($"Dfs 4 KiB GET c{c}", run, context.Dfs.GatewayUrl, dfsGet, c, scratch, ct);
                CheckBodies(dfs, $"Dfs GET c{c}");
                Record(figure, run, dfs, baseline: false);
                if (context.Nginx is { } nginx)
                {
                    var baseline = await MeasureAsync($"nginx 4 KiB GET c{c}", run, nginx.BaseUrl, nginxGet, c, scratch, ct);
                    CheckBodies(baseline, $"nginx GET c{c}");
                    Record(figure, run, baseline, baseline: true);
                }
            }

            // Warm-up PUTs go to a folder of their own, so the measured folder holds exactly what the measured run stored.
            var dfsFolder = $"{root}/put-c{Connections}";
            var query = $"?{ApiRoutes.ConflictQuery}=overwrite&{ApiRoutes.ReplicationQuery}=1";
            var dfsResult = await MeasureAsync($"Dfs 4 KiB PUT c{Connections}", run, context.Dfs.GatewayUrl,
                WrkScripts.Put($"{ApiRoutes.Files}{dfsFolder}/", query, SmallObjectWorkload.ObjectSize, Authorization, seed), Connections, scratch, ct,
                warmUp: WrkScripts.Put($"{ApiRoutes.Files}{root}/put-warm/", query, SmallObjectWorkload.ObjectSize, Authorization, seed + 1));
            CheckStored(dfsResult, await CountDfsAsync(dfsFolder, ct), $"Dfs PUT c{Connections}");
            Record(put, run, dfsResult, baseline: false);
            if (context.Nginx is { } server)
            {
                var folder = $"/{nginxFolder}/put-c{Connections}/";
                var nginxResult = await MeasureAsync($"nginx 4 KiB PUT c{Connections}", run, server.BaseUrl,
                    WrkScripts.Put(folder, "", SmallObjectWorkload.ObjectSize, null, seed), Connections, scratch, ct,
                    warmUp: WrkScripts.Put($"/{nginxFolder}/put-warm/", "", SmallObjectWorkload.ObjectSize, null, seed + 1));
                var stored = Directory.Exists(server.Root + folder) ? Directory.EnumerateFiles(server.Root + folder).Count() : 0;
                CheckStored(nginxResult, stored, $"nginx PUT c{Connections}");
                Record(put, run, nginxResult, baseline: true);
            }
        }
        finally
        {
            await LargeFileWorkload.DeleteQuietlyAsync(context.Dfs.Client, root, CancellationToken.None);
            if (context.Nginx is not null)
            {
                var folder = Path.Combine(context.Nginx.Root, nginxFolder);
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>The header the in-process client sends (the bench's bearer token); none for a gateway without authentication.</summary>
    private string? Authorization => context.Dfs.Http.DefaultRequestHeaders.Authorization?.ToString();

    /// <summary>
    /// Random 4 KiB objects at replication 3 in Dfs, the same bytes as static files for nginx; then waits for the
    /// Replicator, whose copies would otherwise run during the measured GETs.
    /// </summary>
    private async Task<string[]> StoreObjectsAsync(string dfsFolder, string nginxFolder, CancellationToken ct)
    {
        var paths = Enumerable.Range(0, Objects).Select(i => $"{dfsFolder}/{i}").ToArray();
        if (context.Nginx is not null) Directory.CreateDirectory(Path.Combine(context.Nginx.Root, nginxFolder));
        await Parallel.ForEachAsync(paths, new ParallelOptions { MaxDegreeOfParallelism = Connections, CancellationToken = ct }, async (path, token) =>
        {
            var bytes = new byte[SmallObjectWorkload.ObjectSize];
            Random.Shared.NextBytes(bytes);
            await context.Dfs.Client.PutFileAsync(path, new MemoryStream(bytes, writable: false), new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: 3), token);
            if (context.Nginx is { } nginx) await File.WriteAllBytesAsync(Path.Combine(nginx.Root, nginxFolder, Path.GetFileName(path)), bytes, token);
        });
        var waited = await Replication.WaitForNoBacklogAsync(context.Dfs.Client, TimeSpan.FromMinutes(10), ct);
        BenchContext.Log($"wrk: {Objects} objects of 4 KiB stored at replication 3; the Replicator caught up {waited:F1} s later");
        return paths;
    }

    private async Task<WrkResult> MeasureAsync(string name, int run, Uri target, string script, int connections, string scratch, CancellationToken ct, string? warmUp = null)
    {
        // The services' JIT was warmed by the 4 KiB warm-up; this only opens wrk's connections at this concurrency.
        if (!Options.Short) await wrk!.RunAsync(target, warmUp ?? script, connections, 1, scratch, ct);
        WrkResult result;
        using (var phase = context.Cpu.Start(PhasePrefix + name, run))
        {
            result = await wrk!.RunAsync(target, script, connections, Seconds, scratch, ct);
            phase.AddCpu(CpuComponent, result.CpuSeconds);
        }
        BenchContext.Log(string.Create(CultureInfo.InvariantCulture,
            $"run {run}: wrk {name}: {result.RequestsPerSecond:F0} req/s, p50 {result.P50Ms:F2} ms, p99 {result.P99Ms:F2} ms, {result.Requests} requests in {result.Seconds:F2} s, wrk used {result.CpuSeconds:F2} CPU-s"));
        // A figure made of failed requests measures the failure: any error fails the run (a broken script, a refused token).
        if (result.Errors.Total > 0)
            throw new InvalidOperationException($"wrk {name}: {result.Errors.Describe()} among {result.Requests} requests.");
        if (result.Requests == 0) throw new InvalidOperationException($"wrk {name}: no request completed in {result.Seconds:F1} s.");
        return result;
    }

    /// <summary>Each answer carried a whole object: a 3xx or an empty 2xx is not an error to wrk.</summary>
    private static void CheckBodies(WrkResult result, string what)
    {
        if (result.BytesPerRequest < SmallObjectWorkload.ObjectSize)
            throw new InvalidOperationException($"wrk {what}: {result.BytesPerRequest:F0} bytes per answer, headers included; an object is {SmallObjectWorkload.ObjectSize}.");
    }

    /// <summary>Every PUT wrk counted was stored; a few more may be, those still in flight when it stopped.</summary>
    private static void CheckStored(WrkResult result, long stored, string what)
    {
        if (stored < result.Requests || stored > result.Requests + Connections)
            throw new InvalidOperationException($"wrk {what}: {result.Requests} PUTs answered, {stored} objects stored.");
    }

    private async Task<long> CountDfsAsync(string folder, CancellationToken ct)
    {
        long count = 0;
        await foreach (var entry in context.Dfs.Client.ListAllAsync(folder, ct)) count++;
        return count;
    }

    private static void Record(Figure figure, int run, WrkResult result, bool baseline)
    {
        (baseline ? figure.Baseline : figure.Dfs)[run] = result.RequestsPerSecond;
        var p50 = figure.Detail("p50", "ms");
        var p99 = figure.Detail("p99", "ms");
        (baseline ? p50.Baseline : p50.Dfs).Add(result.P50Ms);
        (baseline ? p99.Baseline : p99.Dfs).Add(result.P99Ms);
    }
}
