using System.Diagnostics;

namespace Dfs.AppHost.Processes;

/// <summary>
/// One running child. It is started through setsid so that it leads its own process group: a signal to
/// the group reaches every descendant, also ones whose parent died (which a /proc tree walk misses), and
/// a Ctrl+C in the terminal reaches only the AppHost, which then stops the children in order.
/// </summary>
public sealed class ChildProcess : IDisposable
{
    private const string SetsidPath = "/usr/bin/setsid";

    private readonly Process _process;
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ChildProcess(Process process, bool ownGroup)
    {
        _process = process;
        OwnProcessGroup = ownGroup;
    }

    public int Pid { get; private set; }

    public bool OwnProcessGroup { get; }

    public DateTimeOffset StartedAt { get; private set; }

    /// <summary>Completes with the exit code when the process has exited (not waiting for its output pipes, which a surviving grandchild may hold).</summary>
    public Task<int> Exited => _exited.Task;

    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>Both output pipes reached their end: every line the process wrote is in the log.</summary>
    public Task OutputClosed => Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task);

    public static ChildProcess Start(LaunchSpec spec, OutputLog output)
    {
        var ownGroup = File.Exists(SetsidPath);
        var psi = new ProcessStartInfo
        {
            FileName = ownGroup ? SetsidPath : spec.FileName,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = spec.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        // setsid execs the command in place (a fresh child is never a group leader), so the pid stays the service's.
        if (ownGroup) psi.ArgumentList.Add(spec.FileName);
        foreach (var arg in spec.Arguments) psi.ArgumentList.Add(arg);
        foreach (var (key, value) in spec.Environment)
        {
            if (value is null) psi.Environment.Remove(key);
            else psi.Environment[key] = value;
        }

        var process = new Process { StartInfo = psi, EnableRaisingEvents = true };
        var child = new ChildProcess(process, ownGroup);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) child._stdoutClosed.TrySetResult();
            else output.Append(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) child._stderrClosed.TrySetResult();
            else output.Append(e.Data);
        };
        process.Exited += (_, _) =>
        {
            int code;
            try { code = process.ExitCode; }
            catch (InvalidOperationException) { code = -1; }
            child._exited.TrySetResult(code);
        };

        process.Start();
        child.Pid = process.Id;
        child.StartedAt = DateTimeOffset.UtcNow;
        // Nothing reads the AppHost's console input on a child's behalf.
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Signals the whole process group (or just the process when it has none yet).</summary>
    public void Signal(int signal)
    {
        if (OwnProcessGroup && Native.Signal(-Pid, signal)) return;
        if (!HasExited) Native.Signal(Pid, signal);
    }

    /// <summary>SIGKILL to the group and the tree below the process: nothing it started survives.</summary>
    public void KillTree()
    {
        if (OwnProcessGroup) Native.Signal(-Pid, Native.SIGKILL);
        if (HasExited) return;
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
        catch (System.ComponentModel.Win32Exception) { }
    }

    /// <summary>After the leader ended: kills whatever is left in its group (orphaned descendants).</summary>
    public void KillLeftovers()
    {
        if (OwnProcessGroup) Native.Signal(-Pid, Native.SIGKILL);
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        if (HasExited) return true;
        await Task.WhenAny(Exited, Task.Delay(timeout));
        return HasExited;
    }

    public void Dispose() => _process.Dispose();
}
