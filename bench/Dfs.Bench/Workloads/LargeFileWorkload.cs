using System.Diagnostics;
using Dfs.Bench.Baselines;
using Dfs.Bench.Measuring;
using Dfs.Bench.Results;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Bench.Workloads;

/// <summary>
/// One run of the big-file figures: PUT and GET at replication factor 1 and 3 through the gateway, and the same
/// file through nginx (WebDAV PUT, sendfile GET) and a plain copy + fsync, all on the same disk, back to back.
/// Two files per run, because content addressing would turn a second upload of the same bytes into no-ops.
/// </summary>
public sealed class LargeFileWorkload(BenchContext context)
{
    private const double MiB = 1 << 20;
    private BenchOptions Options => context.Options;
    private BenchReport Report => context.Report;
    private IGatewayApi Dfs => context.Dfs.Client;

    private string SizeText => Sizes.Format(Options.FileSize);

    public async Task RunAsync(int run, CancellationToken ct)
    {
        var work = context.Dfs.WorkDirectory;
        var fileA = Path.Combine(work, $"r{run}-a.bin");
        var fileB = Path.Combine(work, $"r{run}-b.bin");
        var copy = Path.Combine(work, $"r{run}-copy.bin");
        var dfsA = $"/bench/r{run}/a.bin";
        var dfsB = $"/bench/r{run}/b.bin";
        var dfsC = $"/bench/r{run}/c.bin";
        try
        {
            BenchContext.Log($"run {run}: writing two {SizeText} test files");
            var shaA = await TestData.WriteRandomFileAsync(fileA, Options.FileSize, ct);
            var shaB = await TestData.WriteRandomFileAsync(fileB, Options.FileSize, ct);

            var put1 = Report.Add("put.rf1", $"PUT {SizeText}, replication 1", "MiB/s", Better.Higher, "nginx WebDAV PUT", new Target(TargetKind.RatioAtLeast, 0.80, ""));
            var put1Copy = Report.Add("put.rf1.vs-copy", $"PUT {SizeText}, replication 1, vs. a durable copy", "MiB/s", Better.Higher, "copy + fsync, 1 MiB buffer");
            var put3 = Report.Add("put.rf3", $"PUT {SizeText}, replication 3 (until answered)", "MiB/s", Better.Higher, "nginx WebDAV PUT");
            var put3Copies = Report.Add("put.rf3.copies", $"PUT {SizeText}, replication 3 (until 3 copies)", "MiB/s", Better.Higher, "nginx WebDAV PUT",
                new Target(TargetKind.RatioAtLeast, 0.50, ""));
            var put3All = Report.Add("put.rf3.all", $"PUT {SizeText}, replication 3, durability=all (pipeline: 3 fsynced copies when answered)", "MiB/s",
                Better.Higher, "nginx WebDAV PUT", new Target(TargetKind.RatioAtLeast, 0.50, ""));
            // Through the gateway (the thin path: curl, browsers), and with `dfs get` (chunks straight from the nodes).
            var get1 = Report.Add("get.rf1", $"GET {SizeText}, replication 1", "MiB/s", Better.Higher, "nginx GET (sendfile)", new Target(TargetKind.RatioAtLeast, 0.40, ""));
            var get3 = Report.Add("get.rf3", $"GET {SizeText}, replication 3", "MiB/s", Better.Higher, "nginx GET (sendfile)", new Target(TargetKind.RatioAtLeast, 0.40, ""));
            var getCli = Report.Add("get.rf3.dfs-get", $"`dfs get` {SizeText}, replication 3 (from the nodes, verified, to disk)", "MiB/s", Better.Higher,
                "nginx GET (sendfile)", new Target(TargetKind.RatioAtLeast, 0.60, ""));

            // Baselines first, on the file Dfs gets next.
            using (context.Cpu.Start("copy + fsync", run))
            {
                var seconds = await FsyncCopy.CopyAsync(fileA, copy, ct);
                Rate(put1Copy.Baseline, run, seconds, "copy + fsync");
            }
            File.Delete(copy);

            if (context.NginxHttp is { } nginx)
            {
                var nginxPath = $"r{run}/a.bin";
                using (context.Cpu.Start("nginx PUT", run))
                {
                    var started = Stopwatch.GetTimestamp();
                    await using (var source = TestData.OpenRead(fileA))
                        await Measuring.Http.PutAsync(nginx, nginxPath, Measuring.Http.StreamOf(source, Options.FileSize), ct);
                    var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
                    foreach (var f in new[] { put1, put3, put3Copies, put3All }) Rate(f.Baseline, run, seconds, null);
                    BenchContext.Log($"run {run}: nginx PUT {BenchContext.MiBps(Options.FileSize, seconds)}");
                }
                var stored = new FileInfo(Path.Combine(context.Nginx!.Root, nginxPath)).Length;
                if (stored != Options.FileSize) throw new InvalidOperationException($"nginx stored {stored} bytes of {Options.FileSize}.");
                using (context.Cpu.Start("nginx GET", run))
                {
                    var (bytes, _, seconds) = await Measuring.Http.GetAsync(nginx, nginxPath, hash: false, null, ct);
                    Check(bytes, "nginx GET");
                    foreach (var f in new[] { get1, get3, getCli }) Rate(f.Baseline, run, seconds, null);
                    BenchContext.Log($"run {run}: nginx GET {BenchContext.MiBps(bytes, seconds)}");
                }
                File.Delete(Path.Combine(context.Nginx.Root, nginxPath));
            }

            using (context.Cpu.Start("Dfs PUT rf1", run))
            {
                var seconds = await PutAsync(fileA, dfsA, 1, shaA, ct);
                Rate(put1.Dfs, run, seconds, "Dfs PUT rf1");
                Rate(put1Copy.Dfs, run, seconds, null);
            }
            using (context.Cpu.Start("Dfs GET rf1", run))
                Rate(get1.Dfs, run, await GetAsync(dfsA, ct), "Dfs GET rf1");

            double ackSeconds;
            using (context.Cpu.Start("Dfs PUT rf3 (answer)", run))
            {
                ackSeconds = await PutAsync(fileB, dfsB, 3, shaB, ct);
                Rate(put3.Dfs, run, ackSeconds, "Dfs PUT rf3 (answered)");
            }
            using (context.Cpu.Start("Dfs replication to 3 copies", run))
            {
                var waited = await Replication.WaitForCopiesAsync(Dfs, dfsB, 3, excluded: null, TimeSpan.FromMinutes(15), ct);
                Rate(put3Copies.Dfs, run, ackSeconds + waited, "Dfs PUT rf3 (3 copies)");
            }
            using (context.Cpu.Start("Dfs GET rf3", run))
                Rate(get3.Dfs, run, await GetAsync(dfsB, ct), "Dfs GET rf3");
            using (context.Cpu.Start("Dfs PUT rf3 durability=all", run))
                Rate(put3All.Dfs, run, await PutAsync(fileA, dfsC, 3, shaA, ct, Durability.All), "Dfs PUT rf3 durability=all");
            if (context.Dfs.CliLauncher is { } cli)
            {
                using (context.Cpu.Start("dfs get rf3", run))
                    Rate(getCli.Dfs, run, await CliGetAsync(cli, dfsB, Path.Combine(work, $"r{run}-got.bin"), ct), "dfs get rf3");
            }
            else getCli.Skipped = "needs a cluster started by the benchmark (its `dfs` launcher)";

            if (context.Dfs.ControlsProcesses)
                await new NodeLossWorkload(context).RunAsync(run, dfsB, shaB, ct);
            else
                foreach (var id in NodeLossWorkload.FigureIds)
                    NodeLossWorkload.Declare(context, id).Skipped = "needs a cluster started by the benchmark (node kill)";
        }
        finally
        {
            foreach (var file in new[] { fileA, fileB, copy }) File.Delete(file);
            await DeleteQuietlyAsync(Dfs, $"/bench/r{run}", CancellationToken.None);
        }
    }

    /// <summary>
    /// Not measured: a few chunks through every path once (JIT, connection pools, buffer pools, the Replicator),
    /// so the first measured run does not pay for the processes' start.
    /// </summary>
    public async Task WarmUpAsync(CancellationToken ct)
    {
        BenchContext.Log("warming up (not measured)");
        var size = Math.Min(Options.FileSize, 4 * Options.ChunkSize);
        var file = Path.Combine(context.Dfs.WorkDirectory, "warmup.bin");
        try
        {
            await TestData.WriteRandomFileAsync(file, size, ct);
            foreach (var rf in new[] { 1, 3 })
            {
                await using (var source = TestData.OpenRead(file))
                    await Dfs.PutFileAsync($"/bench/warmup/rf{rf}.bin", source, new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: rf), ct);
                await Measuring.Http.GetAsync(context.Dfs.Http, $"{ApiRoutes.Files}/bench/warmup/rf{rf}.bin", hash: false, null, ct);
            }
            await Replication.WaitForCopiesAsync(Dfs, "/bench/warmup/rf3.bin", 3, excluded: null, TimeSpan.FromMinutes(5), ct);
            if (context.NginxHttp is { } nginx)
            {
                await using (var source = TestData.OpenRead(file))
                    await Measuring.Http.PutAsync(nginx, "warmup.bin", Measuring.Http.StreamOf(source, size), ct);
                await Measuring.Http.GetAsync(nginx, "warmup.bin", hash: false, null, ct);
                File.Delete(Path.Combine(context.Nginx!.Root, "warmup.bin"));
            }
        }
        finally
        {
            File.Delete(file);
            await DeleteQuietlyAsync(Dfs, "/bench/warmup", CancellationToken.None);
        }
    }

    private async Task<double> PutAsync(string file, string path, int replication, string sha, CancellationToken ct, Durability durability = Durability.One)
    {
        var started = Stopwatch.GetTimestamp();
        PutFileResult result;
        await using (var source = TestData.OpenRead(file))
            result = await Dfs.PutFileAsync(path, source, new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: replication, Durability: durability), ct);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (result.Size != Options.FileSize || result.Sha256 != sha)
            throw new InvalidOperationException($"Dfs stored {path} as {result.Size} bytes with SHA-256 {result.Sha256}; sent {Options.FileSize} bytes with {sha}.");
        return seconds;
    }

    private async Task<double> GetAsync(string path, CancellationToken ct)
    {
        var (bytes, _, seconds) = await Measuring.Http.GetAsync(context.Dfs.Http, ApiRoutes.Files + path, hash: false, null, ct);
        Check(bytes, $"Dfs GET {path}");
        return seconds;
    }

    /// <summary>
    /// The real `dfs get` as a user runs it (its own process, start-up included): the layout from the gateway, the chunks
    /// from the nodes, each chunk and the whole file verified, the file written and fsynced.
    /// </summary>
    private async Task<double> CliGetAsync(string cli, string path, string target, CancellationToken ct)
    {
        var start = new ProcessStartInfo(cli) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "get", path, target, "--force" }) start.ArgumentList.Add(arg);
        start.Environment["DFS_GATEWAY"] = context.Dfs.GatewayUrl.ToString();
        if (context.Dfs.Token is { } token) start.Environment["DFS_TOKEN"] = token;
        try
        {
            var started = Stopwatch.GetTimestamp();
            using var process = Process.Start(start) ?? throw new InvalidOperationException($"{cli} did not start.");
            var output = process.StandardOutput.ReadToEndAsync(ct);
            var errors = process.StandardError.ReadToEndAsync(ct);
            await process.WaitForExitAsync(ct);
            var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (process.ExitCode != 0) throw new InvalidOperationException($"dfs get {path} exited {process.ExitCode}: {await errors}");
            Check(new FileInfo(target).Length, $"dfs get {path}");
            BenchContext.Log($"dfs get: {(await output).Trim()}");
            return seconds;
        }
        finally
        {
            File.Delete(target);
        }
    }

    private void Rate(SortedDictionary<int, double> series, int run, double seconds, string? log)
    {
        series[run] = Options.FileSize / MiB / seconds;
        if (log is not null) BenchContext.Log($"run {run}: {log} {BenchContext.MiBps(Options.FileSize, seconds)}");
    }

    private void Check(long bytes, string what)
    {
        if (bytes != Options.FileSize) throw new InvalidOperationException($"{what} returned {bytes} bytes, expected {Options.FileSize}.");
    }

    public static async Task DeleteQuietlyAsync(IGatewayApi dfs, string path, CancellationToken ct)
    {
        try { await dfs.DeleteAsync(path, recursive: true, ct); }
        catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound) { }
        catch (Exception e) when (e is DfsApiException or HttpRequestException)
        {
            BenchContext.Log($"could not delete {path}: {e.Message}");
        }
    }
}
