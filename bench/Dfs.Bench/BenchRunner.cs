using System.Diagnostics;
using Dfs.Bench.Baselines;
using Dfs.Bench.Cluster;
using Dfs.Bench.Results;
using Dfs.Bench.Workloads;
using Dfs.Bench.Wrk;
using Spectre.Console;

namespace Dfs.Bench;

/// <summary>Starts what is measured, runs every workload, stops everything it started, and writes the results.</summary>
public static class BenchRunner
{
    public const string DocsPath = "docs/benchmarks.md";

    /// <summary>Processes of the run still alive a few seconds after everything was stopped (same pid and command line).</summary>
    private static async Task<List<string>> LeftBehindAsync(Dictionary<int, string> started)
    {
        List<string> left = [];
        for (var attempt = 0; attempt < 25; attempt++)
        {
            left = [.. started.Where(p => Measuring.ProcFs.CommandLine(p.Key) is { } now && now == p.Value && !IsZombie(p.Key)).Select(p => $"{p.Key} {p.Value}")];
            if (left.Count == 0) break;
            await Task.Delay(200);
        }
        return left;
    }

    private static bool IsZombie(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/stat").Split(") ").ElementAtOrDefault(1)?.StartsWith('Z') == true; }
        catch (IOException) { return false; }
    }

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken ct)
    {
        if (options.GatewayScaling) return await GatewayScalingWorkload.RunAsync(options, ct);
        var clock = Stopwatch.StartNew();
        var report = new BenchReport(options);

        var (nginxBinary, nginxVersion, nginxProblem) = options.SkipNginx
            ? (null, null, "skipped with --no-nginx")
            : await NginxServer.ProbeAsync(ct);
        if (nginxProblem is not null)
        {
            report.RunNote($"nginx baselines n/a: {nginxProblem}");
            BenchContext.Log($"nginx baselines n/a: {nginxProblem}");
        }

        BenchContext.Log(options.Gateway is { } g ? $"targeting the running cluster at {g}" : "starting a cluster (local profile) through the AppHost, as the tests do (DfsTestCluster)");
        DfsTarget dfs;
        try
        {
            dfs = options.Gateway is { } url ? DfsTarget.Attach(url, options.Token) : await DfsTarget.StartAsync(options, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            AnsiConsole.MarkupLine($"[red]Could not start the cluster:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
        if (!dfs.ControlsProcesses)
            report.RunNote("A running cluster was targeted: the node-kill GET, re-replication and peak RSS figures need process control and were skipped.");

        NginxServer? nginx = null;
        HttpClient? nginxHttp = null;
        BenchContext? context = null;
        var exitCode = 0;
        try
        {
            if (nginxBinary is not null)
            {
                nginx = await NginxServer.StartAsync(nginxBinary, nginxVersion!, dfs.WorkDirectory, ct);
                nginxHttp = Measuring.Http.CreateClient(nginx.BaseUrl, out _);
                BenchContext.Log($"{nginx.Version} on {nginx.BaseUrl} (pid {nginx.Pid})");
            }
            report.Machine = MachineInfo.Collect(dfs.WorkDirectory, nginx?.Version);
            report.ClusterDescription = dfs.Description;
            BenchContext.Log($"Dfs gateway {dfs.GatewayUrl}; machine: {report.Machine.Describe()}");
            context = new BenchContext(options, report, dfs, nginx, nginxHttp);

            var wrk = options.Includes(BenchWorkloads.Wrk) ? await WrkWorkload.CreateAsync(context, ct) : null;
            report.WrkVersion = wrk?.Version;
            if (options.Includes(BenchWorkloads.Large)) await new LargeFileWorkload(context).WarmUpAsync(ct);
            // The wrk figures need the services' JIT warmed on the 4 KiB paths as much as the in-process ones do.
            if (options.Includes(BenchWorkloads.Small | BenchWorkloads.Wrk)) await new SmallObjectWorkload(context).WarmUpAsync(ct);
            for (var run = 1; run <= options.Runs; run++)
            {
                if (!options.Includes(BenchWorkloads.Large | BenchWorkloads.Small | BenchWorkloads.Wrk)) break;
                BenchContext.Log($"== run {run} of {options.Runs}");
                if (options.Includes(BenchWorkloads.Large)) await new LargeFileWorkload(context).RunAsync(run, ct);
                if (options.Includes(BenchWorkloads.Small)) await new SmallObjectWorkload(context).RunAsync(run, ct);
                if (wrk is not null) await wrk.RunAsync(run, ct);
            }

            if (options.Includes(BenchWorkloads.Listing))
            {
                var listing = new ListingWorkload(context);
                try
                {
                    await listing.CreateAsync(ct);
                    for (var run = 1; run <= options.Runs; run++) await listing.ListAsync(run, ct);
                }
                finally
                {
                    await listing.CleanUpAsync();
                }
            }

            if (options.Includes(BenchWorkloads.Memory)) await new MemoryWorkload(context).RunAsync(ct);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            report.RunNote("Interrupted before the end: the figures are partial.");
            exitCode = 130;
        }
        catch (Exception e)
        {
            report.RunNote($"The benchmark failed: {e.GetType().Name}: {e.Message}");
            AnsiConsole.MarkupLine($"[red]The benchmark failed:[/] {Markup.Escape(e.ToString())}");
            exitCode = 1;
        }
        finally
        {
            if (context is not null) report.CpuPhases = context.Cpu.Phases;
            BenchContext.Log("stopping nginx and the cluster");
            var started = Measuring.ProcFs.Trees(BenchContext.Groups(dfs, nginx).Where(g => g.Value.IncludeDescendants).SelectMany(g => g.Value.Pids)
                .Concat(dfs.StartedProcesses()));
            nginxHttp?.Dispose();
            if (nginx is not null) await nginx.DisposeAsync();
            await dfs.DisposeAsync();
            var left = await LeftBehindAsync(started);
            if (left.Count > 0)
            {
                report.RunNote($"{left.Count} process(es) outlived the benchmark: {string.Join("; ", left)}");
                AnsiConsole.MarkupLine($"[red]Processes left behind:[/] {Markup.Escape(string.Join("; ", left))}");
                exitCode = exitCode == 0 ? 1 : exitCode;
            }
            else BenchContext.Log($"all {started.Count} processes started for the benchmark are gone");
        }

        report.Duration = clock.Elapsed;
        ReportWriters.WriteConsole(report);
        await ReportWriters.WriteJsonAsync(report, options.JsonPath, CancellationToken.None);
        BenchContext.Log($"JSON: {Path.GetFullPath(options.JsonPath)}");

        // A full, successful run refreshes the docs, and so does one of only the wrk figures (their section alone); a short,
        // failed or otherwise partial one only when asked to.
        var refreshesDocs = !options.Short && exitCode == 0 && options.Workloads is BenchWorkloads.All or BenchWorkloads.Wrk;
        var markdown = options.MarkdownPath ?? (refreshesDocs && File.Exists(DocsPath) ? DocsPath : null);
        if (markdown is not null)
        {
            await ReportWriters.WriteMarkdownAsync(report, markdown, CancellationToken.None);
            BenchContext.Log($"Markdown: {Path.GetFullPath(markdown)}");
        }
        BenchContext.Log($"done in {clock.Elapsed.TotalSeconds:F0} s");
        return exitCode;
    }
}
