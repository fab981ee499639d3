using System.Collections.Concurrent;
using Dfs.Bench.Measuring;
using Dfs.Bench.Results;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Bench.Workloads;

/// <summary>
/// 4 KiB objects at 1, 16 and 64 concurrent clients: PUT of new objects (random bytes, so no two are alike),
/// then GET of random ones among them, for a fixed time each; nginx does the same with WebDAV PUT and GET.
/// Dfs stores them at replication factor 1 (the gateway and PostgreSQL path); one more figure at replication 3.
/// </summary>
public sealed class SmallObjectWorkload(BenchContext context)
{
    public const int ObjectSize = 4096;

    private BenchReport Report => context.Report;

    /// <summary>Runs the 4 KiB paths unmeasured until the services' JIT has optimized them (see BenchOptions.SmallObjectWarmUp).</summary>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        const string root = "/bench/warmup-small";
        var concurrency = context.Options.Concurrencies.Max();
        var half = context.Options.SmallObjectWarmUp / 2;
        BenchContext.Log($"warming up the 4 KiB paths for {context.Options.SmallObjectWarmUp.TotalSeconds:F0} s (not measured)");
        var created = new ConcurrentBag<string>();
        try
        {
            await OperationLoop.RunAsync(concurrency, half, DfsPut(root, concurrency, 1, created), ct);
            if (!created.IsEmpty) await OperationLoop.RunAsync(concurrency, half, Get(context.Dfs.Http, created.ToArray(), p => ApiRoutes.Files + p), ct);
        }
        finally
        {
            await LargeFileWorkload.DeleteQuietlyAsync(context.Dfs.Client, root, CancellationToken.None);
        }
    }

    public async Task RunAsync(int run, CancellationToken ct)
    {
        var duration = context.Options.SmallObjectDuration;
        var dfsPaths = new ConcurrentBag<string>();
        var nginxPaths = new ConcurrentBag<string>();
        var root = $"/bench/small-r{run}";
        try
        {
            foreach (var c in context.Options.Concurrencies)
            {
                var figure = Report.Add($"small.put.c{c}", $"4 KiB PUT, {c} client{(c == 1 ? "" : "s")}, replication 1", "ops/s", Better.Higher, "nginx WebDAV PUT",
                    c == 16 ? new Target(TargetKind.AtLeast, 3000, "ops/s") : null);
                var dfs = await MeasureAsync($"Dfs 4 KiB PUT c{c}", run, c, duration, DfsPut(root, c, 1, dfsPaths), ct);
                Record(figure, run, dfs, baseline: false);
                if (context.NginxHttp is not null)
                    Record(figure, run, await MeasureAsync($"nginx 4 KiB PUT c{c}", run, c, duration, NginxPut(run, c, nginxPaths), ct), baseline: true);
            }

            var dfsAll = dfsPaths.ToArray();
            var nginxAll = nginxPaths.ToArray();
            foreach (var c in context.Options.Concurrencies)
            {
                var figure = Report.Add($"small.get.c{c}", $"4 KiB GET, {c} client{(c == 1 ? "" : "s")}", "ops/s", Better.Higher, "nginx GET",
                    c == 16 ? new Target(TargetKind.AtLeast, 8000, "ops/s") : null);
                Record(figure, run, await MeasureAsync($"Dfs 4 KiB GET c{c}", run, c, duration, Get(context.Dfs.Http, dfsAll, p => ApiRoutes.Files + p), ct), baseline: false);
                if (context.NginxHttp is { } nginx)
                    Record(figure, run, await MeasureAsync($"nginx 4 KiB GET c{c}", run, c, duration, Get(nginx, nginxAll, p => p), ct), baseline: true);
            }

            // Replication factor 3: each PUT also makes the Replicator copy the object twice, in the background.
            var c3 = context.Options.Concurrencies.Contains(16) ? 16 : context.Options.Concurrencies.Max();
            var rf3 = Report.Add($"small.put.c{c3}.rf3", $"4 KiB PUT, {c3} clients, replication 3", "ops/s", Better.Higher, "nginx WebDAV PUT");
            Record(rf3, run, await MeasureAsync($"Dfs 4 KiB PUT c{c3} rf3", run, c3, duration, DfsPut(root + "-rf3", c3, 3, new ConcurrentBag<string>()), ct), baseline: false);
            if (Report.Figures.First(f => f.Id == $"small.put.c{c3}").Baseline.TryGetValue(run, out var nginxPut)) rf3.Baseline[run] = nginxPut;
            using (context.Cpu.Start("Replicator backlog after 4 KiB PUTs rf3", run))
            {
                var waited = await Replication.WaitForNoBacklogAsync(context.Dfs.Client, TimeSpan.FromMinutes(10), ct);
                BenchContext.Log($"run {run}: the Replicator caught up {waited:F1} s after the 4 KiB rf3 PUTs ended");
                rf3.Notes.Add($"run {run}: the Replicator finished the copies {waited:F1} s after the PUTs ended");
            }
        }
        finally
        {
            await LargeFileWorkload.DeleteQuietlyAsync(context.Dfs.Client, root, CancellationToken.None);
            await LargeFileWorkload.DeleteQuietlyAsync(context.Dfs.Client, root + "-rf3", CancellationToken.None);
            if (context.Nginx is not null)
            {
                var folder = Path.Combine(context.Nginx.Root, $"small-r{run}");
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
            }
        }
    }

    private async Task<Latencies> MeasureAsync(string name, int run, int concurrency, TimeSpan duration, Func<int, long, CancellationToken, Task> operation, CancellationToken ct)
    {
        Latencies result;
        using (context.Cpu.Start(name, run))
            result = await OperationLoop.RunAsync(concurrency, duration, operation, ct);
        BenchContext.Log($"run {run}: {name}: {result.OpsPerSecond:F0} ops/s, p50 {result.P50:F2} ms, p99 {result.P99:F2} ms" +
                         (result.Errors > 0 ? $", {result.Errors} errors" : ""));
        return result;
    }

    private void Record(Figure figure, int run, Latencies result, bool baseline)
    {
        (baseline ? figure.Baseline : figure.Dfs)[run] = result.OpsPerSecond;
        var p50 = figure.Detail("p50", "ms");
        var p99 = figure.Detail("p99", "ms");
        (baseline ? p50.Baseline : p50.Dfs).Add(result.P50);
        (baseline ? p99.Baseline : p99.Dfs).Add(result.P99);
        if (result.Errors > 0)
            figure.Notes.Add($"run {run}: {(baseline ? "baseline" : "Dfs")} had {result.Errors} failed operations (not counted)");
    }

    private Func<int, long, CancellationToken, Task> DfsPut(string root, int concurrency, int replication, ConcurrentBag<string> created)
    {
        var buffers = Buffers(concurrency);
        var options = new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: replication);
        return async (worker, i, ct) =>
        {
            var path = $"{root}/c{concurrency}/{worker}-{(i < 0 ? "w" + -i : i.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
            Random.Shared.NextBytes(buffers[worker]);
            await context.Dfs.Client.PutFileAsync(path, new MemoryStream(buffers[worker], writable: false), options, ct);
            created.Add(path);
        };
    }

    private Func<int, long, CancellationToken, Task> NginxPut(int run, int concurrency, ConcurrentBag<string> created)
    {
        var buffers = Buffers(concurrency);
        return async (worker, i, ct) =>
        {
            var path = $"small-r{run}/c{concurrency}/{worker}-{(i < 0 ? "w" + -i : i.ToString(System.Globalization.CultureInfo.InvariantCulture))}";
            Random.Shared.NextBytes(buffers[worker]);
            await Measuring.Http.PutAsync(context.NginxHttp!, path, new ByteArrayContent(buffers[worker]), ct);
            created.Add(path);
        };
    }

    private static Func<int, long, CancellationToken, Task> Get(HttpClient http, string[] paths, Func<string, string> url) =>
        Get(_ => http, paths, url);

    /// <summary>GETs of random objects among <paramref name="paths"/>, each worker through the client <paramref name="http"/> gives it.</summary>
    internal static Func<int, long, CancellationToken, Task> Get(Func<int, HttpClient> http, string[] paths, Func<string, string> url)
    {
        if (paths.Length == 0) throw new InvalidOperationException("No objects were stored, so none can be read.");
        // One byte more than an object, so a longer body is noticed.
        var buffers = Enumerable.Range(0, 1024).Select(_ => new byte[ObjectSize + 1]).ToArray();
        return async (worker, _, ct) =>
        {
            var path = url(paths[Random.Shared.Next(paths.Length)]);
            using var response = await http(worker).GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode) throw new HttpRequestException($"GET {path}: {(int)response.StatusCode}");
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var total = 0;
            int read;
            while ((read = await body.ReadAsync(buffers[worker].AsMemory(total), ct)) > 0) total += read;
            if (total != ObjectSize) throw new InvalidOperationException($"GET {path}: {total} bytes, expected {ObjectSize}.");
        };
    }

    private static byte[][] Buffers(int count) => Enumerable.Range(0, count).Select(_ => new byte[ObjectSize]).ToArray();
}
