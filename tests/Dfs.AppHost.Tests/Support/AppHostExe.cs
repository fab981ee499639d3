using System.Diagnostics;
using System.Text;
using Dfs.AppHost.Hosting;

namespace Dfs.AppHost.Tests.Support;

/// <summary>The built AppHost run as its own process, the way a developer runs it.</summary>
public sealed class AppHostExe : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new();
    private readonly StringBuilder _stderr = new();

    private AppHostExe(Process process) => _process = process;

    public int Pid => _process.Id;

    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }

    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public static AppHostExe Start(params string[] args)
    {
        var dll = typeof(DfsApplication).Assembly.Location;
        // Through env(1), which resets SIGINT to its default: a test run started in the background (as CI may start
        // it) inherits SIGINT ignored, and the runtime then leaves Ctrl+C ignored too, as a background job should.
        var psi = new ProcessStartInfo("env") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add("--default-signal=INT");
        psi.ArgumentList.Add(ServiceProjects.DotnetHost());
        psi.ArgumentList.Add(dll);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        // The test host's own settings must not leak into the AppHost under test.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("DFS_APPHOST_", StringComparison.OrdinalIgnoreCase) || k.StartsWith("Dfs__", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        var process = new Process { StartInfo = psi };
        var exe = new AppHostExe(process);
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (exe._stdout) exe._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (exe._stderr) exe._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return exe;
    }

    /// <summary>Runs to completion: (exit code, stdout, stderr).</summary>
    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(CancellationToken ct, params string[] args)
    {
        await using var exe = Start(args);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await exe._process.WaitForExitAsync(timeout.Token);
        return (exe.ExitCode, exe.Stdout, exe.Stderr);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            try { _process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            await WaitForExitAsync(TimeSpan.FromSeconds(10));
        }
        _process.Dispose();
    }
}
