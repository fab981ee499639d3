using System.Diagnostics;
using Dfs.Bench.Measuring;
using Dfs.Bench.Results;
using Dfs.Contracts.Api;

namespace Dfs.Bench.Workloads;

/// <summary>
/// A node killed mid-read (SIGKILL, through the AppHost): the GET must still deliver every byte, verified by the
/// client's SHA-256; then the time until every chunk is back at 3 live copies. The node is restarted afterwards
/// so the next run starts with four.
/// </summary>
public sealed class NodeLossWorkload(BenchContext context)
{
    public static readonly string[] FigureIds = ["get.rf3.killed", "rereplication", "rereplication.total"];

    public static Figure Declare(BenchContext context, string id)
    {
        var size = Sizes.Format(context.Options.FileSize);
        return id switch
        {
            "get.rf3.killed" => context.Report.Add(id, $"GET {size}, replication 3, a node killed mid-read (client checks SHA-256)", "MiB/s", Better.Higher,
                "same GET with SHA-256 check, no fault"),
            "rereplication" => context.Report.Add(id, $"Re-replication after a node loss (copy phase, {size} file)", "MB/s", Better.Higher,
                "copy + fsync, 1 MiB buffer", new Target(TargetKind.AtLeast, 200, "MB/s")),
            _ => context.Report.Add(id, $"Back to 3 copies after a node kill (from the kill; the node counts as dead after {Cluster.DfsTarget.NodeDeadAfterMs(context.Options) / 1000.0:0.#} s)", "s", Better.Lower),
        };
    }

    public async Task RunAsync(int run, string path, string sha, CancellationToken ct)
    {
        var size = context.Options.FileSize;
        var dfs = context.Dfs.Client;
        var killedGet = Declare(context, "get.rf3.killed");
        var rate = Declare(context, "rereplication");
        var total = Declare(context, "rereplication.total");

        // Baseline: the same verified GET without a fault.
        using (context.Cpu.Start("Dfs GET rf3 + client SHA-256", run))
        {
            var (bytes, got, seconds) = await Measuring.Http.GetAsync(context.Dfs.Http, ApiRoutes.Files + path, hash: true, null, ct);
            if (bytes != size || got != sha) throw new InvalidOperationException($"GET {path}: {bytes} bytes with SHA-256 {got}, expected {size} and {sha}.");
            killedGet.Baseline[run] = size / (double)(1 << 20) / seconds;
        }

        // The victim holds copies of the second half of the file, which is still to come when it dies.
        var stat = await dfs.StatAsync(path, ct);
        var victim = stat.Chunks.Where(c => c.Offset >= size / 2).SelectMany(c => c.Replicas.Take(1)).GroupBy(r => r.NodeName)
            .OrderByDescending(g => g.Count()).Select(g => g.Key).FirstOrDefault() ?? stat.Chunks[0].Replicas[0].NodeName;
        var toRestore = stat.Chunks.Where(c => c.Replicas.Any(r => r.NodeName == victim)).Sum(c => c.Size);
        BenchContext.Log($"run {run}: GET while killing {victim} (it holds {toRestore / (1 << 20)} MiB of the file)");

        Task? kill = null;
        Task<long>? declaredDead = null;
        long killedAt = 0;
        void Kill()
        {
            killedAt = Stopwatch.GetTimestamp();
            kill = context.Dfs.KillAsync(victim, ct);
            // Watched from the kill on, while the GET still runs: the copy phase starts when the gateway says "dead".
            declaredDead = WhenDeadAsync(victim, ct);
        }

        using (context.Cpu.Start("Dfs GET rf3, node killed", run))
        {
            var (bytes, got, seconds) = await Measuring.Http.GetAsync(context.Dfs.Http, ApiRoutes.Files + path, hash: true, progress: read =>
            {
                if (kill is null && read >= size * 3 / 10) Kill();
            }, ct);
            if (kill is null)
            {
                // Too small to catch mid-read (short mode): kill now so recovery is still measured.
                Kill();
                context.Report.Note("The file was too small for the kill to land mid-read (short mode): the node was killed after the GET.");
            }
            await kill!;
            if (bytes != size || got != sha) throw new InvalidOperationException($"GET {path} with {victim} killed: {bytes} bytes with SHA-256 {got}, expected {size} and {sha}.");
            killedGet.Dfs[run] = size / (double)(1 << 20) / seconds;
            BenchContext.Log($"run {run}: GET with {victim} killed {BenchContext.MiBps(size, seconds)}, SHA-256 verified");
        }

        using (context.Cpu.Start("re-replication after node loss", run))
        {
            var deadAt = await declaredDead!;
            await Replication.WaitForCopiesAsync(dfs, path, 3, victim, TimeSpan.FromMinutes(15), ct);
            var done = Stopwatch.GetTimestamp();
            var copySeconds = Stopwatch.GetElapsedTime(deadAt, done).TotalSeconds;
            var fromKill = Stopwatch.GetElapsedTime(killedAt, done).TotalSeconds;
            rate.Dfs[run] = toRestore / 1e6 / copySeconds;
            total.Dfs[run] = fromKill;
            BenchContext.Log($"run {run}: {victim} declared dead {Stopwatch.GetElapsedTime(killedAt, deadAt).TotalSeconds:F1} s after the kill; " +
                             $"{toRestore / (1 << 20)} MiB back at 3 copies {copySeconds:F1} s later ({toRestore / 1e6 / copySeconds:F0} MB/s), {fromKill:F1} s after the kill");
        }

        // Baseline: this run's plain copy + fsync of the big file on the same disk, in MB/s.
        if (context.Report.Figures.FirstOrDefault(f => f.Id == "put.rf1.vs-copy")?.Baseline.GetValueOrDefault(run) is > 0 and var copyMiBps)
            rate.Baseline[run] = copyMiBps * (1 << 20) / 1e6;

        BenchContext.Log($"run {run}: restarting {victim}");
        await context.Dfs.RestartAsync(victim, ct);
        await Replication.WaitForNodeStateAsync(dfs, victim, NodeStates.Live, TimeSpan.FromMinutes(2), ct);
    }

    /// <summary>The moment (Stopwatch timestamp) the gateway first reports the node dead, polled every 100 ms.</summary>
    private async Task<long> WhenDeadAsync(string node, CancellationToken ct)
    {
        await Replication.WaitForNodeStateAsync(context.Dfs.Client, node, NodeStates.Dead, TimeSpan.FromMinutes(2), ct);
        return Stopwatch.GetTimestamp();
    }
}
