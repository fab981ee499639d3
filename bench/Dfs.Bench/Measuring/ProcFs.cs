using System.Globalization;

namespace Dfs.Bench.Measuring;

/// <summary>What Linux says about processes and the machine (/proc); everything here is read-only and cheap.</summary>
public static class ProcFs
{
    /// <summary>Clock ticks per second of /proc/*/stat times (USER_HZ; 100 on every Linux we target).</summary>
    private const double TicksPerSecond = 100;

    /// <summary>
    /// Resident set size now (VmRSS), its peak so far (VmHWM), and the resident private memory (RssAnon: heaps,
    /// stacks, buffers; the rest of VmRSS is file-backed code shared with other processes and shared mappings), in bytes;
    /// null when the process is gone.
    /// </summary>
    public static (long Rss, long Peak, long Anon)? Memory(int pid)
    {
        try
        {
            long rss = 0, hwm = 0, anon = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = KiB(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = KiB(line);
                else if (line.StartsWith("RssAnon:", StringComparison.Ordinal)) anon = KiB(line);
            }
            return (rss, hwm, anon);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Every live process: pid, parent and CPU seconds used (user + system).</summary>
    public static Dictionary<int, (int Parent, double CpuSeconds)> Processes()
    {
        var result = new Dictionary<int, (int, double)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string stat;
            try { stat = File.ReadAllText(Path.Combine(dir, "stat")); }
            catch (IOException) { continue; }
            catch (UnauthorizedAccessException) { continue; }
            // The command name is in parentheses and may hold spaces: the fields that follow start after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            if (fields.Length < 13) continue;
            var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            result[pid] = (parent, ticks / TicksPerSecond);
        }
        return result;
    }

    /// <summary>CPU seconds of a process and all its live descendants (PostgreSQL backends, nginx workers, beam.smp).</summary>
    public static double TreeCpuSeconds(Dictionary<int, (int Parent, double CpuSeconds)> processes, int root)
    {
        if (!processes.ContainsKey(root)) return 0;
        var children = processes.ToLookup(p => p.Value.Parent, p => p.Key);
        double total = 0;
        var stack = new Stack<int>([root]);
        while (stack.Count > 0)
        {
            var pid = stack.Pop();
            total += processes[pid].CpuSeconds;
            foreach (var child in children[pid]) stack.Push(child);
        }
        return total;
    }

    /// <summary>
    /// CPU seconds of this process's children that have ended and been waited for (cutime + cstime of /proc/self/stat):
    /// the only way to measure a child that is gone, such as a wrk run.
    /// </summary>
    public static double EndedChildrenCpuSeconds()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[13], CultureInfo.InvariantCulture) + long.Parse(fields[14], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    /// <summary>Busy and total CPU seconds of the whole machine since boot (all cores), from /proc/stat.</summary>
    public static (double Busy, double Total) MachineCpu()
    {
        var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already in user.
        var idle = values[3] + values[4];
        var total = values.Take(8).Sum();
        return ((total - idle) / TicksPerSecond, total / TicksPerSecond);
    }

    private static long KiB(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    /// <summary>The pids of the given processes and all their live descendants, with each one's command line (to tell a reused pid apart).</summary>
    public static Dictionary<int, string> Trees(IEnumerable<int> roots)
    {
        var processes = Processes();
        var children = processes.ToLookup(p => p.Value.Parent, p => p.Key);
        var result = new Dictionary<int, string>();
        var stack = new Stack<int>(roots.Where(processes.ContainsKey));
        while (stack.Count > 0)
        {
            var pid = stack.Pop();
            if (result.ContainsKey(pid)) continue;
            result[pid] = CommandLine(pid) ?? "";
            foreach (var child in children[pid]) stack.Push(child);
        }
        return result;
    }

    public static string? CommandLine(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
