using System.Diagnostics;

namespace Dfs.Bench.Measuring;

/// <summary>CPU seconds one phase cost each part of the system (process trees), and what the rest of the machine used meanwhile.</summary>
public sealed record PhaseCpu(string Phase, int Run, double WallSeconds, IReadOnlyDictionary<string, double> CpuSeconds, double MachineBusySeconds, double MachineCapacitySeconds,
    IReadOnlyDictionary<string, double> Counters)
{
    /// <summary>Busy CPU not accounted to any of our processes: other builds and tests sharing the machine.</summary>
    public double OtherSeconds => Math.Max(0, MachineBusySeconds - CpuSeconds.Values.Sum());
}

/// <summary>A component's processes: their trees (children included: PostgreSQL backends, nginx workers), or only themselves.</summary>
public sealed record ProcessGroup(int[] Pids, bool IncludeDescendants = true);

/// <summary>Measures the CPU a phase costs per component: start it before, dispose it after.</summary>
public sealed class CpuMeter
{
    private readonly Func<IReadOnlyDictionary<string, ProcessGroup>> _groups;
    private readonly Func<IReadOnlyDictionary<string, double>> _counters;
    private readonly List<PhaseCpu> _phases = [];

    /// <param name="groups">Component name → its processes, asked again at each phase (a killed node comes back with a new pid).</param>
    /// <param name="counters">Cumulative counters read at both ends of a phase (PostgreSQL commits and rollbacks); the phase keeps the difference.</param>
    public CpuMeter(Func<IReadOnlyDictionary<string, ProcessGroup>> groups, Func<IReadOnlyDictionary<string, double>>? counters = null)
    {
        _groups = groups;
        _counters = counters ?? (() => new Dictionary<string, double>());
    }

    public IReadOnlyList<PhaseCpu> Phases
    {
        get { lock (_phases) return [.. _phases]; }
    }

    public Phase Start(string name, int run) => new(this, name, run);

    private Dictionary<string, double> Snapshot(IReadOnlyDictionary<string, ProcessGroup> groups)
    {
        var processes = ProcFs.Processes();
        return groups.ToDictionary(g => g.Key, g => g.Value.Pids.Sum(pid => g.Value.IncludeDescendants
            ? ProcFs.TreeCpuSeconds(processes, pid)
            : processes.TryGetValue(pid, out var p) ? p.CpuSeconds : 0));
    }

    public sealed class Phase : IDisposable
    {
        private readonly CpuMeter _meter;
        private readonly string _name;
        private readonly int _run;
        private readonly IReadOnlyDictionary<string, ProcessGroup> _groups;
        private readonly Dictionary<string, double> _before;
        private readonly (double Busy, double Total) _machineBefore;
        private readonly IReadOnlyDictionary<string, double> _countersBefore;
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly Dictionary<string, double> _added = new(StringComparer.Ordinal);
        private bool _done;

        internal Phase(CpuMeter meter, string name, int run)
        {
            _meter = meter;
            _name = name;
            _run = run;
            _groups = meter._groups();
            _before = meter.Snapshot(_groups);
            _machineBefore = ProcFs.MachineCpu();
            _countersBefore = meter._counters();
        }

        /// <summary>CPU of a component no process group can see, measured by the caller: a child process that has already ended (wrk).</summary>
        public void AddCpu(string component, double seconds) => _added[component] = _added.GetValueOrDefault(component) + seconds;

        public void Dispose()
        {
            if (_done) return;
            _done = true;
            var wall = Stopwatch.GetElapsedTime(_started).TotalSeconds;
            // Pids of the start: a process killed during the phase is simply missing afterwards (its CPU is lost, not negative).
            var after = _meter.Snapshot(_groups);
            var machine = ProcFs.MachineCpu();
            var cpu = after.ToDictionary(a => a.Key, a => Math.Max(0, a.Value - _before.GetValueOrDefault(a.Key)));
            foreach (var (component, seconds) in _added) cpu[component] = cpu.GetValueOrDefault(component) + seconds;
            var counters = _meter._counters().ToDictionary(c => c.Key, c => c.Value - _countersBefore.GetValueOrDefault(c.Key));
            lock (_meter._phases)
                _meter._phases.Add(new PhaseCpu(_name, _run, wall, cpu, machine.Busy - _machineBefore.Busy, machine.Total - _machineBefore.Total, counters));
        }
    }
}
