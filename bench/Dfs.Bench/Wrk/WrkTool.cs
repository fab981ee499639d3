using System.Diagnostics;
using System.Globalization;
using Dfs.Bench.Measuring;

namespace Dfs.Bench.Wrk;

/// <summary>
/// wrk (Debian's package) as an external load generator: a native process of its own, so what it costs is its own
/// column in the CPU table and not charged to the benchmark's .NET client or, through it, to Dfs.
/// </summary>
public sealed class WrkTool
{
    public const string InstallHint = "install it with: apt-get install -y wrk";

    private static readonly string[] Candidates = ["/usr/bin/wrk", "/usr/local/bin/wrk"];

    private WrkTool(string binary, string version)
    {
        Binary = binary;
        Version = version;
    }

    public string Binary { get; }
    public string Version { get; }

    /// <summary>Threads wrk runs: one per core (it is event driven), never more than connections.</summary>
    public static int Threads(int connections) => Math.Max(1, Math.Min(connections, Environment.ProcessorCount));

    /// <summary>Finds wrk; returns why not when it is missing.</summary>
    public static async Task<(WrkTool? Tool, string? Problem)> ProbeAsync(CancellationToken ct)
    {
        var binary = Candidates.FirstOrDefault(File.Exists)
            ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(d => Path.Combine(d, "wrk")).FirstOrDefault(File.Exists);
        if (binary is null) return (null, $"wrk is not installed; {InstallHint}");
        // `wrk -v` prints its version and usage, and exits 1: only the first line matters.
        var info = new ProcessStartInfo(binary, "-v") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {binary}.");
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var first = ((await stdout) + (await stderr)).Split('\n').FirstOrDefault(l => l.StartsWith("wrk ", StringComparison.Ordinal))?.Trim();
        if (first is null) return (null, $"{binary} does not answer -v like wrk; {InstallHint}");
        // "wrk debian/4.1.0-3+b2 [epoll] Copyright (C) 2012 Will Glozer" → "wrk debian/4.1.0-3+b2".
        var version = string.Join(' ', first.Split(' ').Take(2));
        return (new WrkTool(binary, version), null);
    }

    /// <summary>
    /// Runs wrk for whole <paramref name="seconds"/> (its smallest unit) with <paramref name="script"/> against
    /// <paramref name="target"/>, and returns what it measured and the CPU it used. Throws when wrk fails or its output
    /// lacks the summary; errors in the requests are the caller's to judge.
    /// </summary>
    public async Task<WrkResult> RunAsync(Uri target, string script, int connections, int seconds, string scratchDirectory, CancellationToken ct)
    {
        Directory.CreateDirectory(scratchDirectory);
        var scriptPath = Path.Combine(scratchDirectory, $"wrk-{Guid.NewGuid():N}.lua");
        // The script may hold the bench's bearer token: readable by us only.
        await File.WriteAllTextAsync(scriptPath, "", ct);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(scriptPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await File.WriteAllTextAsync(scriptPath, script, ct);
        try
        {
            var info = new ProcessStartInfo(Binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var arg in new[]
                     {
                         "-t", Threads(connections).ToString(CultureInfo.InvariantCulture),
                         "-c", connections.ToString(CultureInfo.InvariantCulture),
                         "-d", $"{seconds}s",
                         // wrk's default (2 s) would count a slow PUT on a busy shared machine as an error; 30 s is a hang.
                         "--timeout", "30s",
                         "--latency",
                         "-s", scriptPath,
                         target.ToString(),
                     })
                info.ArgumentList.Add(arg);

            // A child's CPU is added to its parent's cutime/cstime once it has been waited for (.NET does): the
            // difference across the run is wrk's own CPU, nothing else of ours ends meanwhile.
            var cpuBefore = ProcFs.EndedChildrenCpuSeconds();
            using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {Binary}.");
            var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
            var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(seconds + 60));
            try
            {
                await process.WaitForExitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(CancellationToken.None);
                ct.ThrowIfCancellationRequested();
                throw new TimeoutException($"wrk did not finish a {seconds} s run within {seconds + 60} s: {Tail(await stdout + await stderr)}");
            }
            var output = await stdout;
            var errors = await stderr;
            var cpu = ProcFs.EndedChildrenCpuSeconds() - cpuBefore;
            if (process.ExitCode != 0)
                throw new InvalidOperationException($"wrk exited with {process.ExitCode}: {Tail(errors + output)}");
            try
            {
                return WrkOutput.Parse(output, cpu);
            }
            catch (FormatException e)
            {
                throw new InvalidOperationException($"{e.Message} wrk said: {Tail(errors + output)}", e);
            }
        }
        finally
        {
            File.Delete(scriptPath);
        }
    }

    private static string Tail(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return string.Join(" | ", lines.TakeLast(8));
    }
}
