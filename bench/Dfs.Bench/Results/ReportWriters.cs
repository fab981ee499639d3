using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dfs.Bench.Measuring;
using Dfs.Bench.Wrk;
using Spectre.Console;

namespace Dfs.Bench.Results;

/// <summary>The table on the console, the markdown section for docs/benchmarks.md, and the JSON of every figure.</summary>
public static class ReportWriters
{
    public const string BeginMarker = "<!-- bench:results:begin -->";
    public const string EndMarker = "<!-- bench:results:end -->";
    public const string WrkBeginMarker = "<!-- bench:wrk:begin -->";
    public const string WrkEndMarker = "<!-- bench:wrk:end -->";

    private static readonly string[] CpuColumns = ["gateway", "nodes", "replicator", "postgres", "rabbitmq", "redis", "nginx", "bench client"];

    public static void WriteConsole(BenchReport report)
    {
        // Redirected output (CI logs, tee) would otherwise be wrapped at 80 columns.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = 200;
        var table = new Table().Border(TableBorder.Rounded).Title("Dfs benchmark (medians; ratios taken run by run)");
        table.AddColumns("Figure", "Dfs", "Baseline", "Dfs vs baseline", "Target", "Verdict");
        foreach (var f in report.Figures)
        {
            var verdict = Format.Verdict(f.TargetMet);
            var colour = f.TargetMet switch { true => "green", false => "red", null => "grey" };
            table.AddRow(
                Markup.Escape(f.Title),
                Markup.Escape(f.Skipped is null ? DfsCell(f) : "skipped"),
                Markup.Escape(BaselineCell(f)),
                Markup.Escape(Format.Ratio(f.RatioMedian)),
                Markup.Escape(f.Target?.Describe() ?? ""),
                f.Target is null ? "" : $"[{colour}]{Markup.Escape(verdict)}[/]");
        }
        AnsiConsole.Write(table);
        foreach (var note in AllNotes(report)) AnsiConsole.MarkupLine($"[grey]- {Markup.Escape(note)}[/]");
    }

    /// <summary>The results section: every figure but the wrk ones, which have a section of their own (<see cref="WrkMarkdown"/>).</summary>
    public static string Markdown(BenchReport report) => Markdown(report, wrk: false);

    /// <summary>The wrk section: the figures measured with wrk as the load generator, with their CPU phases.</summary>
    public static string WrkMarkdown(BenchReport report) => Markdown(report, wrk: true);

    private static string Markdown(BenchReport report, bool wrk)
    {
        var figures = report.Figures.Where(f => WrkWorkload.Owns(f) == wrk).ToList();
        var md = new StringBuilder();
        var o = report.Options;
        md.Append(CultureInfo.InvariantCulture, $"Measured {report.StartedAt:yyyy-MM-dd HH:mm} UTC in {report.Duration.TotalMinutes:F1} min, ");
        md.Append(CultureInfo.InvariantCulture, $"{o.Runs} run{(o.Runs == 1 ? "" : "s")}{(o.Short ? " (short mode: tiny sizes, not figures of record)" : "")}: ");
        md.AppendLine("each cell is the median over the runs; the ratio is the median of the per-run ratios (Dfs and baseline measured back to back in one run).");
        md.AppendLine();
        if (report.Machine is { } m) md.AppendLine(CultureInfo.InvariantCulture, $"- Machine: {m.Describe()}.");
        if (report.ClusterDescription is { } c) md.AppendLine(CultureInfo.InvariantCulture, $"- Cluster: {c}.");
        if (wrk)
            md.AppendLine(CultureInfo.InvariantCulture,
                $"- Load generator: {report.WrkVersion ?? "wrk (not found)"}, a process of its own (one thread per core, its CPU in the \"{WrkWorkload.CpuComponent}\" column), {WrkWorkload.SecondsPerFigure(o)} s per figure, sending the benchmark's bearer token to Dfs; every request must succeed, or the run fails.");
        md.AppendLine();
        md.AppendLine("| Figure | Dfs | Baseline | Dfs vs baseline | Target | Verdict |");
        md.AppendLine("| --- | --- | --- | --- | --- | --- |");
        foreach (var f in figures)
        {
            var verdict = f.Target is null ? "" : f.TargetMet == false ? "**missed**" : Format.Verdict(f.TargetMet);
            md.AppendLine(CultureInfo.InvariantCulture,
                $"| {Cell(f.Title)} | {Cell(f.Skipped is null ? DfsCell(f) : "skipped: " + f.Skipped)} | {Cell(BaselineCell(f))} | {Format.Ratio(f.RatioMedian)} | {Cell(f.Target?.Describe() ?? "")} | {verdict} |");
        }
        // The workloads' own notes belong to the results section; notes about the whole run go into both.
        var notes = (wrk ? report.RunNotes : report.Notes).Concat(figures.SelectMany(f => f.Notes.Select(n => $"{f.Title}: {n}"))).ToList();
        if (notes.Count > 0)
        {
            md.AppendLine();
            foreach (var note in notes) md.AppendLine(CultureInfo.InvariantCulture, $"- {note}");
        }

        var phases = report.CpuPhases.Where(p => WrkWorkload.Owns(p) == wrk).GroupBy(p => p.Phase).ToList();
        // Components only some phases have (wrk) get a column after the usual ones.
        var columns = CpuColumns.Concat(phases.SelectMany(g => g).SelectMany(p => p.CpuSeconds.Keys).Distinct().Except(CpuColumns).Order(StringComparer.Ordinal)).ToArray();
        if (phases.Count > 0)
        {
            md.AppendLine();
            md.AppendLine("CPU seconds per component in each phase (median over runs; the machine has " +
                          $"{report.Machine?.Cores ?? Environment.ProcessorCount} cores, so a phase can use at most cores × wall seconds; " +
                          "\"other\" is busy CPU outside our processes: the other builds and tests sharing the machine):");
            md.AppendLine();
            md.AppendLine("| Phase | Wall s | " + string.Join(" | ", columns) + " | other | PostgreSQL commits | rollbacks |");
            md.AppendLine("| --- | ---: | " + string.Join(" | ", columns.Select(_ => "---:")) + " | ---: | ---: | ---: |");
            foreach (var phase in phases)
            {
                var cells = columns.Select(col => Medians.Of(phase.Select(p => p.CpuSeconds.TryGetValue(col, out var v) ? v : double.NaN)))
                    .Select(v => double.IsNaN(v) ? "" : v.ToString("F1", CultureInfo.InvariantCulture));
                var commits = Medians.Of(phase.Select(p => p.Counters.TryGetValue("pg.commits", out var v) ? v : double.NaN));
                var rollbacks = Medians.Of(phase.Select(p => p.Counters.TryGetValue("pg.rollbacks", out var v) ? v : double.NaN));
                md.AppendLine(CultureInfo.InvariantCulture,
                    $"| {Cell(phase.Key)} | {Medians.Of(phase.Select(p => p.WallSeconds)):F1} | {string.Join(" | ", cells)} | {Medians.Of(phase.Select(p => p.OtherSeconds)):F1} | {Format.Number(commits)} | {Format.Number(rollbacks)} |");
            }
        }
        return md.ToString();
    }

    /// <summary>
    /// Writes the markdown sections this run measured (the results; the wrk figures): each only between its markers when
    /// the file has them, a missing one appended; a file with none of the markers is replaced.
    /// </summary>
    public static async Task WriteMarkdownAsync(BenchReport report, string path, CancellationToken ct)
    {
        var sections = new List<(string Begin, string End, string Text)>();
        if (report.Figures.Any(f => !WrkWorkload.Owns(f)) || !report.Figures.Any(WrkWorkload.Owns)) sections.Add((BeginMarker, EndMarker, Markdown(report)));
        if (report.Figures.Any(WrkWorkload.Owns)) sections.Add((WrkBeginMarker, WrkEndMarker, WrkMarkdown(report)));
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var text = File.Exists(full) ? await File.ReadAllTextAsync(full, ct) : "";
        if (!text.Contains(BeginMarker, StringComparison.Ordinal) && !text.Contains(WrkBeginMarker, StringComparison.Ordinal))
            text = "# Dfs benchmark results\n";
        foreach (var (begin, end, section) in sections)
        {
            var at = text.IndexOf(begin, StringComparison.Ordinal);
            var to = text.IndexOf(end, StringComparison.Ordinal);
            text = at >= 0 && to > at
                ? text[..(at + begin.Length)] + "\n" + section + text[to..]
                : text.TrimEnd('\n') + "\n\n" + begin + "\n" + section + end + "\n";
        }
        await File.WriteAllTextAsync(full, text, ct);
    }

    public static async Task WriteJsonAsync(BenchReport report, string path, CancellationToken ct)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var document = new
        {
            report.StartedAt,
            DurationSeconds = report.Duration.TotalSeconds,
            Options = new
            {
                report.Options.Short,
                report.Options.Runs,
                report.Options.FileSize,
                report.Options.MemoryFileSize,
                report.Options.ChunkSize,
                report.Options.ListEntries,
                SmallObjectSeconds = report.Options.SmallObjectDuration.TotalSeconds,
                report.Options.Concurrencies,
                Workloads = report.Options.Workloads.ToString(),
                report.WrkVersion,
                Gateway = report.Options.Gateway?.ToString(),
            },
            report.Machine,
            Cluster = report.ClusterDescription,
            report.Notes,
            Figures = report.Figures.Select(f => new
            {
                f.Id,
                f.Title,
                f.Unit,
                f.Better,
                f.BaselineTitle,
                Target = f.Target is null ? null : new { f.Target.Kind, f.Target.Threshold, f.Target.Unit, Text = f.Target.Describe() },
                f.TargetMet,
                f.Skipped,
                Dfs = Series(f.Dfs),
                Baseline = Series(f.Baseline),
                Ratio = Series(f.Ratios),
                Details = f.Details.Select(d => new { d.Name, d.Unit, Dfs = d.Dfs.Select(Finite), Baseline = d.Baseline.Select(Finite) }),
                f.Notes,
            }),
            Cpu = report.CpuPhases.Select(p => new { p.Phase, p.Run, p.WallSeconds, p.CpuSeconds, p.MachineBusySeconds, p.MachineCapacitySeconds, p.OtherSeconds, p.Counters }),
        };
        await using var stream = File.Create(full);
        await JsonSerializer.SerializeAsync(stream, document, new JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        }, ct);
    }

    private static object Series(IReadOnlyDictionary<int, double> values) => new
    {
        Runs = values.ToDictionary(v => v.Key.ToString(CultureInfo.InvariantCulture), v => Finite(v.Value)),
        Median = Finite(Medians.Of(values.Values)),
    };

    private static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 4) : null;

    private static string DfsCell(Figure f) => Cell(f.DfsMedian, f.Unit, f.Details.Select(d => (d, d.Dfs)));

    private static string BaselineCell(Figure f)
    {
        if (f.BaselineTitle is null) return "";
        if (f.Baseline.Count == 0) return $"{f.BaselineTitle}: n/a";
        return $"{f.BaselineTitle}: {Cell(f.BaselineMedian, f.Unit, f.Details.Select(d => (d, d.Baseline)))}";
    }

    private static string Cell(double median, string unit, IEnumerable<(Detail Detail, List<double> Values)> details)
    {
        var text = Format.Value(median, unit);
        var extra = details.Where(d => d.Values.Count > 0).Select(d => $"{d.Detail.Name} {Format.Number(Medians.Of(d.Values))} {d.Detail.Unit}").ToList();
        return extra.Count == 0 ? text : $"{text} ({string.Join(", ", extra)})";
    }

    private static IEnumerable<string> AllNotes(BenchReport report) =>
        report.Notes.Concat(report.Figures.SelectMany(f => f.Notes.Select(n => $"{f.Title}: {n}")));

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);
}
