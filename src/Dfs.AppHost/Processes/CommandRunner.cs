using System.Diagnostics;

namespace Dfs.AppHost.Processes;

/// <summary>Runs a short command to completion (initdb, chown), its output going to a resource's log.</summary>
internal static class CommandRunner
{
    public static async Task<int> RunAsync(string fileName, IEnumerable<string> arguments, OutputLog? output, CancellationToken ct)
    {
        var psi = new ProcessStartInfo
        {
            FileName = fileName,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in arguments) psi.ArgumentList.Add(arg);
        using var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output?.Append(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output?.Append(e.Data); };
        process.Start();
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            throw;
        }
        return process.ExitCode;
    }
}
