using System.Diagnostics;
using Dfs.Bench.Measuring;
using Dfs.Bench.Results;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Bench.Workloads;

/// <summary>
/// Peak resident memory of the gateway, a storage node and the Replicator while a big file (4 GiB) streams
/// through: a generated PUT at replication 3 (never a buffer of the whole file), the Replicator's copies, and a
/// GET whose SHA-256 is checked on the fly. RSS is sampled every 100 ms from /proc/PID/status.
/// </summary>
public sealed class MemoryWorkload(BenchContext context)
{
    private const double MB = 1e6;

    public async Task RunAsync(CancellationToken ct)
    {
        var size = context.Options.MemoryFileSize;
        var text = Sizes.Format(size);
        var figures = new Dictionary<string, Figure>
        {
            ["gateway"] = context.Report.Add("rss.gateway", $"Peak RSS streaming {text}: gateway", "MB", Better.Lower, null, new Target(TargetKind.Below, 200, "MB")),
            ["nodes"] = context.Report.Add("rss.node", $"Peak RSS streaming {text}: storage node (largest)", "MB", Better.Lower, null, new Target(TargetKind.Below, 128, "MB")),
            ["replicator"] = context.Report.Add("rss.replicator", $"Peak RSS streaming {text}: Replicator", "MB", Better.Lower, null, new Target(TargetKind.Below, 128, "MB")),
        };
        if (!context.Dfs.ControlsProcesses)
        {
            foreach (var f in figures.Values) f.Skipped = "needs the processes' pids (a cluster started by the benchmark)";
            return;
        }

        const string path = "/bench/memory/big.bin";
        var groups = context.Dfs.ProcessGroups();
        var tracked = new Dictionary<string, int[]> { ["gateway"] = groups["gateway"], ["nodes"] = groups["nodes"], ["replicator"] = groups["replicator"] };
        try
        {
            BenchContext.Log($"streaming {text} through Dfs (replication 3) while sampling RSS");
            await using (var sampler = new RssSampler(() => tracked))
            {
                string sha;
                using (context.Cpu.Start($"Dfs PUT {text} rf3 (memory)", 1))
                {
                    var started = Stopwatch.GetTimestamp();
                    await using var source = new GeneratedStream(size);
                    var result = await context.Dfs.Client.PutFileAsync(path, source, new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: 3), ct);
                    sha = source.Sha256();
                    if (result.Size != size || result.Sha256 != sha) throw new InvalidOperationException($"Dfs stored {result.Size} bytes with SHA-256 {result.Sha256}; sent {size} with {sha}.");
                    Note($"PUT {BenchContext.MiBps(size, Stopwatch.GetElapsedTime(started).TotalSeconds)}");
                }
                using (context.Cpu.Start($"Dfs replication of {text} (memory)", 1))
                {
                    var waited = await Replication.WaitForCopiesAsync(context.Dfs.Client, path, 3, excluded: null, TimeSpan.FromMinutes(30), ct);
                    Note($"3 copies {waited:F0} s after the PUT answered");
                }
                using (context.Cpu.Start($"Dfs GET {text} (memory)", 1))
                {
                    var (bytes, got, seconds) = await Measuring.Http.GetAsync(context.Dfs.Http, ApiRoutes.Files + path, hash: true, null, ct);
                    if (bytes != size || got != sha) throw new InvalidOperationException($"GET {path}: {bytes} bytes with SHA-256 {got}, expected {size} and {sha}.");
                    Note($"GET {BenchContext.MiBps(size, seconds)}");
                }
                await sampler.DisposeAsync();
                foreach (var (name, figure) in figures)
                {
                    figure.Dfs[1] = sampler.Peaks.GetValueOrDefault(name) / MB;
                    figure.Detail("private", "MB").Dfs.Add(sampler.AnonPeaks.GetValueOrDefault(name) / MB);
                    BenchContext.Log($"peak RSS {name}: {figure.Dfs[1]:F0} MB, private {sampler.AnonPeaks.GetValueOrDefault(name) / MB:F0} MB ({sampler.Samples} samples)");
                }
            }
            // The high-water mark since each process started covers the whole benchmark (64 concurrent clients included).
            foreach (var (name, figure) in figures)
            {
                var hwm = tracked[name].Select(ProcFs.Memory).OfType<(long Rss, long Peak, long Anon)>().Select(m => m.Peak).DefaultIfEmpty().Max();
                if (hwm > 0) figure.Notes.Add($"VmHWM (peak since the process started, whole benchmark): {hwm / MB:F0} MB");
            }
        }
        finally
        {
            await LargeFileWorkload.DeleteQuietlyAsync(context.Dfs.Client, "/bench/memory", CancellationToken.None);
        }
    }

    private void Note(string note)
    {
        BenchContext.Log(note);
        context.Report.Note($"While sampling RSS ({Sizes.Format(context.Options.MemoryFileSize)} at replication 3): {note}.");
    }
}
