using Dfs.Bench.Measuring;

namespace Dfs.Bench.Results;

/// <summary>Everything one benchmark invocation measured, in the order the table shows it.</summary>
public sealed class BenchReport(BenchOptions options)
{
    private readonly Dictionary<string, Figure> _byId = new(StringComparer.Ordinal);
    private readonly List<Figure> _figures = [];
    private readonly List<string> _notes = [];
    private readonly List<string> _runNotes = [];

    public BenchOptions Options { get; } = options;
    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;
    public TimeSpan Duration { get; set; }
    public MachineInfo? Machine { get; set; }
    public string? ClusterDescription { get; set; }

    /// <summary>The wrk that measured the wrk figures (e.g. "wrk debian/4.1.0-3+b2"); null when it was not found or not run.</summary>
    public string? WrkVersion { get; set; }
    public IReadOnlyList<PhaseCpu> CpuPhases { get; set; } = [];

    public IReadOnlyList<Figure> Figures => _figures;

    /// <summary>Things a reader must know about this run (what was skipped and why, failures).</summary>
    public IReadOnlyList<string> Notes => _notes;

    public Figure Add(string id, string title, string unit, Better better, string? baselineTitle = null, Target? target = null)
    {
        lock (_figures)
        {
            if (_byId.TryGetValue(id, out var existing)) return existing;
            var figure = new Figure(id, title, unit, better, baselineTitle, target);
            _byId[id] = figure;
            _figures.Add(figure);
            return figure;
        }
    }

    public void Note(string note)
    {
        lock (_notes) if (!_notes.Contains(note)) _notes.Add(note);
    }

    /// <summary>A note about the run as a whole (a baseline missing, a failure, a process left behind): every section of the results shows it.</summary>
    public void RunNote(string note)
    {
        Note(note);
        lock (_runNotes) if (!_runNotes.Contains(note)) _runNotes.Add(note);
    }

    public IReadOnlyList<string> RunNotes
    {
        get { lock (_runNotes) return [.. _runNotes]; }
    }
}
