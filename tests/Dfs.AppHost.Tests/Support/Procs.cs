using System.Diagnostics;
using System.Globalization;
using Dfs.AppHost.Processes;

namespace Dfs.AppHost.Tests.Support;

/// <summary>What /proc says, to check that nothing outlives what should have stopped it.</summary>
public static class Procs
{
    public static bool IsAlive(int pid) => ProcessTable.IsAlive(pid);

    /// <summary>The process and everything below it, as seen now.</summary>
    public static IReadOnlyList<int> WithDescendants(int pid)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var p)) continue;
            try
            {
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                parents[p] = int.Parse(fields[1], CultureInfo.InvariantCulture);
            }
            catch (IOException) { }
        }
        var result = new List<int> { pid };
        for (var i = 0; i < result.Count; i++)
            result.AddRange(parents.Where(kv => kv.Value == result[i]).Select(kv => kv.Key));
        return result;
    }

    /// <summary>Live processes (this one excluded) whose command line or environment contains any of <paramref name="fragments"/>, described.</summary>
    public static IReadOnlyList<string> Mentioning(params string[] fragments)
    {
        var self = Environment.ProcessId;
        var found = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid) || pid == self || !IsAlive(pid)) continue;
            var cmd = ProcessTable.CommandLine(pid) ?? "";
            var environment = ProcessTable.EnvironmentOf(pid) ?? [];
            var hit = fragments.FirstOrDefault(f => cmd.Contains(f, StringComparison.Ordinal) || environment.Any(e => e.Contains(f, StringComparison.Ordinal)));
            if (hit is not null) found.Add($"{pid} {ProcessTable.Name(pid)} ({hit}): {cmd}");
        }
        return found;
    }

    /// <summary>
    /// The TCP addresses <paramref name="pid"/> listens on, from its socket descriptors matched against
    /// /proc/net/tcp and tcp6 (state 0A is LISTEN), e.g. "127.0.0.1:5432" or "[::]:4369".
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
                var (address, port) = (f[1][..f[1].IndexOf(':')], int.Parse(f[1][(f[1].IndexOf(':') + 1)..], NumberStyles.HexNumber));
                listening.Add($"{ProcAddress(address)}:{port}");
            }
        }
        return listening;
    }

    /// <summary>An address as /proc/net writes it: hex, each 32-bit word in host (little-endian) order.</summary>
    private static string ProcAddress(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        for (var i = 0; i < bytes.Length; i += 4) Array.Reverse(bytes, i, 4);
        var ip = new System.Net.IPAddress(bytes);
        return ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip)}]" : ip.ToString();
    }

    /// <summary>The user owning a file, or a process when given /proc/PID.</summary>
    public static string Owner(string path)
    {
        using var stat = Process.Start(new ProcessStartInfo("stat", ["-c", "%U", path]) { UseShellExecute = false, RedirectStandardOutput = true })!;
        var owner = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return owner;
    }

    public static async Task AssertAllGoneAsync(IEnumerable<int> pids, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(5));
        var list = pids.ToList();
        while (list.Any(IsAlive) && DateTime.UtcNow < deadline) await Task.Delay(50);
        var alive = list.Where(IsAlive).Select(p => $"{p} ({ProcessTable.CommandLine(p)})").ToList();
        Assert.True(alive.Count == 0, "still running: " + string.Join(", ", alive));
    }

    public static void Signal(int pid, string signal)
    {
        using var kill = Process.Start(new ProcessStartInfo("kill", ["-" + signal, pid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Polls until <paramref name="condition"/> holds; fails with <paramref name="what"/> otherwise.</summary>
    public static async Task EventuallyAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(50);
        }
    }
}
