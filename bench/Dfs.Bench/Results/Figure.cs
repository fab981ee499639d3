using System.Text.Json.Serialization;
using Dfs.Bench.Measuring;

namespace Dfs.Bench.Results;

[JsonConverter(typeof(JsonStringEnumConverter<Better>))]
public enum Better { Higher, Lower }

[JsonConverter(typeof(JsonStringEnumConverter<TargetKind>))]
public enum TargetKind
{
    /// <summary>Dfs ÷ baseline, taken in one run, at least the threshold.</summary>
    RatioAtLeast,
    /// <summary>The Dfs figure at least the threshold.</summary>
    AtLeast,
    /// <summary>The Dfs figure below the threshold.</summary>
    Below,
}

public sealed record Target(TargetKind Kind, double Threshold, string Unit)
{
    public string Describe() => Kind switch
    {
        TargetKind.RatioAtLeast => $"≥ {Threshold:P0} of baseline",
        TargetKind.AtLeast => $"≥ {Format.Number(Threshold)} {Unit}",
        _ => $"< {Format.Number(Threshold)} {Unit}",
    };

    /// <summary>Met, missed, or null when there is nothing to judge (no figure, or no baseline for a ratio target).</summary>
    public bool? IsMet(double value, double ratio) => Kind switch
    {
        TargetKind.RatioAtLeast => double.IsNaN(ratio) ? null : ratio >= Threshold,
        TargetKind.AtLeast => double.IsNaN(value) ? null : value >= Threshold,
        _ => double.IsNaN(value) ? null : value < Threshold,
    };
}

/// <summary>A secondary number shown beside a figure (latency percentiles beside a rate), for Dfs and its baseline.</summary>
public sealed class Detail(string name, string unit)
{
    public string Name { get; } = name;
    public string Unit { get; } = unit;
    public List<double> Dfs { get; } = [];
    public List<double> Baseline { get; } = [];
}

/// <summary>
/// One row of the table: a Dfs figure per run, its baseline measured in the same run, and the ratio of the two
/// taken run by run (the figure of record on a noisy machine), plus the median of each.
/// </summary>
public sealed class Figure(string id, string title, string unit, Better better, string? baselineTitle, Target? target)
{
    public string Id { get; } = id;
    public string Title { get; } = title;
    public string Unit { get; } = unit;
    public Better Better { get; } = better;
    public string? BaselineTitle { get; } = baselineTitle;
    public Target? Target { get; } = target;

    /// <summary>Run number → value; a run that did not measure it has no entry.</summary>
    public SortedDictionary<int, double> Dfs { get; } = [];
    public SortedDictionary<int, double> Baseline { get; } = [];
    public List<Detail> Details { get; } = [];
    public List<string> Notes { get; } = [];

    /// <summary>Why the figure was not measured (e.g. targeting a running cluster); null when it was.</summary>
    public string? Skipped { get; set; }

    public double DfsMedian => Medians.Of(Dfs.Values);
    public double BaselineMedian => Medians.Of(Baseline.Values);

    /// <summary>
    /// Dfs's speed relative to its baseline, per run where both were measured in that run: Dfs ÷ baseline for
    /// rates, baseline ÷ Dfs for times, so 100% is always "as fast as the baseline" and less is slower.
    /// </summary>
    public IReadOnlyDictionary<int, double> Ratios =>
        Dfs.Where(d => Baseline.TryGetValue(d.Key, out var b) && b > 0 && d.Value > 0)
            .ToDictionary(d => d.Key, d => Better == Better.Higher ? d.Value / Baseline[d.Key] : Baseline[d.Key] / d.Value);

    public double RatioMedian => Medians.Of(Ratios.Values);

    public bool? TargetMet => Target?.IsMet(DfsMedian, RatioMedian);

    public Detail Detail(string name, string unit)
    {
        var detail = Details.FirstOrDefault(d => d.Name == name);
        if (detail is null) Details.Add(detail = new Detail(name, unit));
        return detail;
    }
}

/// <summary>Number formatting shared by the console table, the markdown and the notes.</summary>
public static class Format
{
    public static string Number(double value) => double.IsNaN(value) ? "n/a" : value switch
    {
        >= 10_000 => value.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
        >= 100 => value.ToString("F0", System.Globalization.CultureInfo.InvariantCulture),
        >= 10 => value.ToString("F1", System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString("F2", System.Globalization.CultureInfo.InvariantCulture),
    };

    public static string Value(double value, string unit) => double.IsNaN(value) ? "n/a" : $"{Number(value)} {unit}";

    public static string Ratio(double ratio) => double.IsNaN(ratio) ? "n/a" : ratio.ToString("P0", System.Globalization.CultureInfo.InvariantCulture);

    public static string Verdict(bool? met) => met switch { true => "met", false => "MISSED", null => "n/a" };
}
