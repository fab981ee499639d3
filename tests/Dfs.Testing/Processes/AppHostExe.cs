using System.Diagnostics;
using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace Dfs.Testing;

/// <summary>
/// The built AppHost (src/Dfs.AppHost/bin/CONFIGURATION/net10.0/Dfs.AppHost.dll) run as its own process, the way a
/// developer runs it: its own DCP, its own dashboard, its own console.
/// </summary>
public sealed class AppHostExe : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();
    private readonly HashSet<string> _descendants = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopWatching = new();
    private readonly Task _watching;

    private AppHostExe(Process process)
    {
        _process = process;
        _watching = WatchDescendantsAsync(_stopWatching.Token);
    }

    /// <summary>The AppHost as built with this test assembly's configuration.</summary>
    public static string Dll => Path.Combine(Procs.RepositoryRoot(), "src", "Dfs.AppHost", "bin", Configuration, "net10.0", "Dfs.AppHost.dll");

    private static string Configuration =>
        typeof(AppHostExe).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Release";

    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>Every process seen below the AppHost while it ran (pid and command line), sampled every 20 ms.</summary>
    /// <summary>The last lines of both outputs, for failure messages.</summary>
    public string Tail
    {
        get
        {
            var text = Stdout + "\n--- stderr ---\n" + Stderr;
            return text[^Math.Min(text.Length, 6000)..];
        }
    }

    public IReadOnlyList<string> DescendantsSeen { get { lock (_descendants) return [.. _descendants]; } }

    /// <param name="environment">Extra environment (null values remove a variable).</param>
    /// <param name="workingDirectory">Where it runs: its content root, whose appsettings.json it reads.</param>
    public static AppHostExe Start(IEnumerable<string> args, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var dll = Dll;
        if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is not built (dotnet build src/Dfs.AppHost -c {Configuration}).");
        // Through env(1), which resets SIGINT to its default: a test run started in the background (as CI may start
        // it) inherits SIGINT ignored, and the runtime then leaves Ctrl+C ignored too, as a background job should.
        var psi = new ProcessStartInfo("env")
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? Path.GetDirectoryName(dll)!,
        };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add(DotnetHost());
        psi.ArgumentList.Add(dll);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        // The test host's own settings (and an Aspire run around it) must not leak into the AppHost under test.
        foreach (var key in psi.Environment.Keys.Where(IsInherited).ToList()) psi.Environment.Remove(key);
        psi.Environment["ASPIRE_VERSION_CHECK_DISABLED"] = "true";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) psi.Environment.Remove(key);
            else psi.Environment[key] = value;
        }
        var process = new Process { StartInfo = psi };
        process.Start();
        var exe = new AppHostExe(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (exe._stdout) exe._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (exe._stderr) exe._stderr.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return exe;
    }

    private static bool IsInherited(string key) =>
        key.StartsWith("Dfs__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("ASPIRE_", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith("ASPNETCORE_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DOTNET_DASHBOARD", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith("AppHost__", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DCP_", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith("OTEL_", StringComparison.OrdinalIgnoreCase) || key.StartsWith("DFS_", StringComparison.OrdinalIgnoreCase);

    /// <summary>The dotnet that runs this test host (the SDK's), else the one on PATH.</summary>
    private static string DotnetHost() =>
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host
        : Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self
        : "dotnet";

    /// <summary>Runs to completion (at most a minute): exit code, stdout, stderr, and every process it started meanwhile.</summary>
    public static async Task<(int Code, string Stdout, string Stderr, IReadOnlyList<string> Descendants)> RunAsync(IEnumerable<string> args,
        CancellationToken ct, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        await using var exe = Start(args, environment, workingDirectory);
        if (!await exe.WaitForExitAsync(TimeSpan.FromSeconds(60), ct))
            throw new TimeoutException("The AppHost did not exit within 60 s. Its output:\n" + exe.Stdout + exe.Stderr);
        return (exe.ExitCode, exe.Stdout, exe.Stderr, exe.DescendantsSeen);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout, CancellationToken ct = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
            // WaitForExitAsync also waits for the end of the redirected streams.
            return true;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return false;
        }
    }

    /// <summary>The first stdout line that starts with <paramref name="prefix"/>, once printed; null if the process ends or time runs out first.</summary>
    public async Task<string?> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var line = Stdout.Split('\n').Select(l => l.TrimEnd('\r')).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
            if (line is not null) return line;
            if (HasExited || DateTime.UtcNow >= deadline) return null;
            await Task.Delay(100);
        }
    }

    /// <summary>The first match of <paramref name="pattern"/> in stdout, waiting for it; fails with the output when it never comes.</summary>
    public async Task<Match> WaitForOutputAsync(Regex pattern, TimeSpan timeout, CancellationToken ct = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var match = pattern.Match(Stdout);
            if (match.Success) return match;
            if (HasExited) throw new TestExpectationException($"The AppHost exited with code {ExitCode} before printing /{pattern}/.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            if (DateTime.UtcNow > deadline) throw new TestExpectationException($"The AppHost did not print /{pattern}/ within {timeout.TotalSeconds} s.\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
            await Task.Delay(100, ct);
        }
    }

    private async Task WatchDescendantsAsync(CancellationToken ct)
    {
        try
        {
            while (!ct.IsCancellationRequested)
            {
                int pid;
                try { pid = _process.Id; }
                catch (InvalidOperationException) { return; }
                foreach (var child in Procs.WithDescendants(pid).Where(p => p != pid))
                {
                    var line = $"{child} {Procs.CommandLine(child)}";
                    lock (_descendants) _descendants.Add(line);
                }
                if (_process.HasExited) return;
                await Task.Delay(20, ct);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// A clean stop first (SIGTERM: the AppHost stops its resources), then SIGKILL to the AppHost and to everything
    /// it started that is still there, so that a failing test leaves nothing running.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            var tree = Procs.WithDescendants(_process.Id);
            Procs.TrySignal(_process.Id, Procs.SigTerm);
            if (!await WaitForExitAsync(TimeSpan.FromSeconds(45)))
                foreach (var pid in tree) Procs.TrySignal(pid, Procs.SigKill);
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
            foreach (var pid in tree.Where(Procs.IsAlive)) Procs.TrySignal(pid, Procs.SigKill);
        }
        await _stopWatching.CancelAsync();
        await _watching;
        _stopWatching.Dispose();
        _process.Dispose();
    }
}
