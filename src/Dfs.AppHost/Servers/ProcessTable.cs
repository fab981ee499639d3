using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Dfs.AppHost.Servers;

/// <summary>
/// What /proc says about processes, including ones DCP did not start for this run: a server left behind by an
/// AppHost that was killed still holds its data folder, and is found by what it was started with.
/// </summary>
internal static class ProcessTable
{
    public const int SigInt = 2;
    public const int SigKill = 9;
    public const int SigTerm = 15;
    public const int SigCont = 18;
    public const int SigStop = 19;

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
        try { return Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/cmdline")).Replace('\0', ' ').TrimEnd(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Live processes (this one excluded) whose command line or start environment holds <paramref name="mark"/>.</summary>
    public static IReadOnlyList<int> Find(string mark)
    {
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self) continue;
            if ((CommandLine(pid)?.Contains(mark, StringComparison.Ordinal) == true || StartEnvironmentHolds(pid, mark)) && IsAlive(pid))
                found.Add(pid);
        }
        return found;
    }

    /// <summary>
    /// Live processes named <paramref name="name"/> (the kernel's comm) working in <paramref name="folder"/>: a server that
    /// rewrites its command line (redis-server shows only "redis-server 127.0.0.1:PORT") is still found by the folder it
    /// changed into.
    /// </summary>
    public static IReadOnlyList<int> FindWorkingIn(string folder, string name)
    {
        var wanted = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        // The kernel keeps the first 15 bytes of a program's name.
        name = name.Length > 15 ? name[..15] : name;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "comm")).Trim() != name) continue;
                if (new DirectoryInfo(Path.Combine(dir, "cwd")).LinkTarget is { } cwd && Path.TrimEndingDirectorySeparator(cwd) == wanted && IsAlive(pid))
                    found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }

    /// <summary>
    /// The service process DCP's `dotnet run` started: its child whose command line names <paramref name="assemblyName"/>;
    /// signals meant for the service (faults, the pid in cluster.json) go there, not to the wrapper.
    /// </summary>
    public static int? ChildRunning(int parent, string assemblyName)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            if (ParentOf(pid) == parent && CommandLine(pid)?.Contains(assemblyName, StringComparison.Ordinal) == true) return pid;
        }
        return null;
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out var parent) ? parent : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>Sends <paramref name="signal"/> (Process.Kill only knows SIGKILL); false when nothing received it.</summary>
    public static bool Signal(int pid, int signal) => pid > 0 && Kill(pid, signal) == 0;

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

    /// <summary>
    /// SIGTERM (or <paramref name="politeSignal"/>) to each process, SIGKILL to whatever is left after <paramref name="grace"/>;
    /// true when all are gone.
    /// </summary>
    public static async Task<bool> StopAsync(IReadOnlyCollection<int> pids, TimeSpan grace, int politeSignal = SigTerm, CancellationToken ct = default)
    {
        // Signal 0 sends nothing: the caller already asked them to stop in its own way.
        if (politeSignal != 0) foreach (var pid in pids) Signal(pid, politeSignal);
        if (await AllExitedAsync(pids, grace, ct)) return true;
        foreach (var pid in pids) Signal(pid, SigKill);
        return await AllExitedAsync(pids, TimeSpan.FromSeconds(10), ct);
    }

    private static async Task<bool> AllExitedAsync(IReadOnlyCollection<int> pids, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var pid in pids)
        {
            var left = deadline - DateTime.UtcNow;
            if (!await WaitForExitAsync(pid, left > TimeSpan.Zero ? left : TimeSpan.Zero, ct)) return false;
        }
        return true;
    }

    private static bool StartEnvironmentHolds(int pid, string mark)
    {
        try { return Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Split('\0').Contains(mark, StringComparer.Ordinal); }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
