using System.Text;

namespace Dfs.AppHost.Processes;

/// <summary>What /proc says about processes, including ones we did not start (a stale postmaster).</summary>
public static class ProcessTable
{
    /// <summary>True when the process exists and is not a zombie.</summary>
    public static bool IsAlive(int pid)
    {
        if (pid <= 0) return false;
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The state follows the command name, which is in parentheses and may itself contain ") ".
            var close = stat.LastIndexOf(')');
            return close < 0 || close + 2 >= stat.Length || stat[close + 2] != 'Z';
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return true; }
    }

    /// <summary>The command line with its arguments joined by spaces; null when the process is gone.</summary>
    public static string? CommandLine(int pid)
    {
        try
        {
            var bytes = File.ReadAllBytes($"/proc/{pid}/cmdline");
            return Encoding.UTF8.GetString(bytes).Replace('\0', ' ').TrimEnd();
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The environment the process was started with (NAME=value entries); null when gone or not ours to read.</summary>
    public static IReadOnlyList<string>? EnvironmentOf(int pid)
    {
        try
        {
            var bytes = File.ReadAllBytes($"/proc/{pid}/environ");
            return Encoding.UTF8.GetString(bytes).Split('\0', StringSplitOptions.RemoveEmptyEntries);
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// Live processes started with the variable <paramref name="name"/> set to exactly <paramref name="value"/>
    /// (this process excluded). Finds descendants that left our process group (a daemonized epmd) by what
    /// they inherited.
    /// </summary>
    public static IReadOnlyList<int> FindByEnvironment(string name, string value)
    {
        var entry = name + "=" + value;
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self) continue;
            if (EnvironmentOf(pid) is { } environment && environment.Contains(entry, StringComparer.Ordinal) && IsAlive(pid))
                found.Add(pid);
        }
        return found;
    }

    /// <summary>The executable's name as the kernel knows it (/proc/PID/comm): "beam.smp", "epmd".</summary>
    public static string? Name(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n'); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Live processes whose command line contains <paramref name="fragment"/> (this process excluded).</summary>
    public static IReadOnlyList<int> FindByCommandLine(string fragment)
    {
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self) continue;
            if (CommandLine(pid) is { } cmd && cmd.Contains(fragment, StringComparison.Ordinal) && IsAlive(pid))
                found.Add(pid);
        }
        return found;
    }

    /// <summary>Waits until the process is gone; false when it is still alive after <paramref name="timeout"/>.</summary>
    public static async Task<bool> WaitForExitAsync(int pid, TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow >= deadline) return false;
            await Task.Delay(50, ct);
        }
        return true;
    }
}
