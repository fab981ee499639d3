using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dfs.AppHost.Servers;

namespace Dfs.Testing;

/// <summary>What /proc says, to check that nothing outlives what should have stopped it and that nothing listens beyond loopback.</summary>
public static class Procs
{
    public const int SigKill = ProcessTable.SigKill;
    public const int SigTerm = ProcessTable.SigTerm;
    public const int SigCont = 18;
    public const int SigStop = 19;

    public static bool IsAlive(int pid) => ProcessTable.IsAlive(pid);

    public static string? CommandLine(int pid) => ProcessTable.CommandLine(pid);

    /// <summary>Sends a signal when the process is there; false when nothing received it.</summary>
    public static bool TrySignal(int pid, int signal) => ProcessTable.Signal(pid, signal);

    /// <summary>The kernel's name of the process (comm: "beam.smp", "epmd", "postgres"); null when it is gone.</summary>
    public static string? Name(int pid)
    {
        try { return File.ReadAllText($"/proc/{pid}/comm").Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The environment the process started with (VARIABLE=value entries); null when it is gone.</summary>
    public static IReadOnlyList<string>? EnvironmentOf(int pid)
    {
        try { return Encoding.UTF8.GetString(File.ReadAllBytes($"/proc/{pid}/environ")).Split('\0', StringSplitOptions.RemoveEmptyEntries); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>The parent of every live process.</summary>
    private static Dictionary<int, int> Parents()
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var p)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[p] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return parents;
    }

    /// <summary>The process and everything below it, as seen now.</summary>
    public static IReadOnlyList<int> WithDescendants(int pid) => WithDescendants([pid]);

    public static IReadOnlyList<int> WithDescendants(IEnumerable<int> roots)
    {
        var children = Parents().ToLookup(kv => kv.Value, kv => kv.Key);
        var result = new List<int>();
        var seen = new HashSet<int>();
        var queue = new Queue<int>(roots);
        while (queue.Count > 0)
        {
            var pid = queue.Dequeue();
            if (!seen.Add(pid)) continue;
            result.Add(pid);
            foreach (var child in children[pid]) queue.Enqueue(child);
        }
        return result;
    }

    /// <summary>
    /// The DCP of an application run by <paramref name="host"/>: its API server watches the host (`dcp start-apiserver
    /// --monitor HOST`), its controllers watch the API server, and the processes it runs are below them. DCP starts in a
    /// session of its own: none of it is a descendant of the host.
    /// </summary>
    public static IReadOnlyList<int> DcpOf(int host)
    {
        var dcp = Named("dcp").Select(p => (Pid: p, CommandLine: CommandLine(p) ?? "")).ToList();
        var watchers = new HashSet<int> { host };
        bool added;
        do
        {
            added = false;
            foreach (var (pid, commandLine) in dcp)
                if (!watchers.Contains(pid) && watchers.Any(w => commandLine.Contains($"--monitor {w} ", StringComparison.Ordinal) || commandLine.EndsWith($"--monitor {w}", StringComparison.Ordinal)))
                    added = watchers.Add(pid);
        }
        while (added);
        watchers.Remove(host);
        return [.. watchers];
    }

    /// <summary>Live processes (this one excluded) whose command line or environment contains any of <paramref name="fragments"/>, described.</summary>
    public static IReadOnlyList<string> Mentioning(params string[] fragments)
    {
        var self = Environment.ProcessId;
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self || !IsAlive(pid)) continue;
            var cmd = CommandLine(pid) ?? "";
            var environment = EnvironmentOf(pid) ?? [];
            var hit = fragments.FirstOrDefault(f => cmd.Contains(f, StringComparison.Ordinal) || environment.Any(e => e.Contains(f, StringComparison.Ordinal)));
            if (hit is not null) found.Add($"{pid} {Name(pid)} ({hit}): {cmd}");
        }
        return found;
    }

    /// <summary>Live processes whose kernel name is <paramref name="name"/> (epmd, beam.smp, dcp).</summary>
    public static IReadOnlyList<int> Named(string name)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && Name(pid) == name && IsAlive(pid))
                found.Add(pid);
        return found;
    }

    /// <summary>
    /// The TCP addresses <paramref name="pid"/> listens on, from its socket descriptors matched against
    /// /proc/PID/net/tcp and tcp6 (state 0A is LISTEN), e.g. "127.0.0.1:5432" or "[::]:4369".
    /// </summary>
    public static IReadOnlyList<string> ListeningOn(int pid)
    {
        var inodes = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
                if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
                    inodes.Add(target[8..^1]);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        var listening = new List<string>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f[3] != "0A" || !inodes.Contains(f[9])) continue;
                var colon = f[1].IndexOf(':', StringComparison.Ordinal);
                var port = int.Parse(f[1][(colon + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                listening.Add($"{ProcAddress(f[1][..colon])}:{port}");
            }
        }
        return listening;
    }

    /// <summary>Whether an address from <see cref="ListeningOn"/> is a loopback one.</summary>
    public static bool IsLoopback(string address) =>
        address.StartsWith("127.", StringComparison.Ordinal) || address.StartsWith("[::1]:", StringComparison.Ordinal)
        || address.StartsWith("[127.", StringComparison.Ordinal);

    /// <summary>An address as /proc/net writes it: hex, each 32-bit word in host (little-endian) order.</summary>
    private static string ProcAddress(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        for (var i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        var ip = new System.Net.IPAddress(bytes);
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip)}]" : ip.ToString();
    }

    /// <summary>
    /// Every process an AppHost started, as seen now: its descendants, and DCP's, which detaches from the AppHost (its parent
    /// is init) and is found by the AppHost's pid it watches (`dcp start-apiserver --monitor PID`).
    /// </summary>
    public static IReadOnlyList<int> OfAppHost(int appHostPid)
    {
        var dcp = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid)) continue;
            var words = (ProcessTable.CommandLine(pid) ?? "").Split(' ');
            for (var i = 0; i + 1 < words.Length; i++)
                if (words[i] == "--monitor" && words[i + 1] == appHostPid.ToString(CultureInfo.InvariantCulture)) dcp.Add(pid);
        }
        return WithDescendants([appHostPid, .. dcp]);
    }

    /// <summary>Live processes (this one excluded) whose command line or environment contains any of <paramref name="fragments"/>.</summary>
    public static IReadOnlyList<int> FindMentioning(params string[] fragments)
    {
        var self = Environment.ProcessId;
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid == self || !IsAlive(pid)) continue;
            var cmd = ProcessTable.CommandLine(pid) ?? "";
            var environment = EnvironmentOf(pid);
            if (fragments.Any(f => cmd.Contains(f, StringComparison.Ordinal) || (environment ?? []).Any(e => e.Contains(f, StringComparison.Ordinal)))) found.Add(pid);
        }
        return found;
    }

    /// <summary>"PID NAME: COMMAND LINE", for failure messages.</summary>
    public static string Describe(int pid) => $"{pid} {Name(pid)}: {ProcessTable.CommandLine(pid)}";

    public static async Task AssertAllGoneAsync(IEnumerable<int> pids, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(5));
        var list = pids.ToList();
        while (list.Any(IsAlive) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var alive = list.Where(IsAlive).Select(p => $"{p} ({CommandLine(p)})").ToList();
        if (alive.Count > 0) throw new TestExpectationException("still running: " + string.Join(", ", alive));
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> otherwise.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow >= deadline) throw new TestExpectationException("timed out waiting for " + what);
            await Task.Delay(50, ct);
        }
    }

    /// <summary>Runs a short command to completion: (exit code, stdout + stderr).</summary>
    public static async Task<(int Code, string Output)> RunAsync(string program, IEnumerable<string> args, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>The folder holding Dfs.sln, above this test's bin folder.</summary>
    public static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Dfs.sln"))) return dir.FullName;
        throw new InvalidOperationException("Dfs.sln not found above " + AppContext.BaseDirectory);
    }
}
