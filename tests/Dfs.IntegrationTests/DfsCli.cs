using System.Diagnostics;
using System.Reflection;

namespace Dfs.IntegrationTests;

/// <summary>Runs the real `dfs` executable (built dll, via `dotnet`) as a process.</summary>
internal static class DfsCli
{
    public sealed record Run(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}";
    }

    public static Task<Run> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, string? stdin,
        IEnumerable<string> args, CancellationToken ct) =>
        RunProgramAsync("dotnet", [typeof(DfsCli).Assembly.GetCustomAttribute<CliPathAttribute>()!.Path, .. args], workingDirectory, environment, stdin, ct);

    /// <summary>Any program (a launcher script, a shell), its output collected; stdin closed after <paramref name="stdin"/>.</summary>
    public static async Task<Run> RunProgramAsync(string program, IEnumerable<string> args, string workingDirectory,
        IReadOnlyDictionary<string, string> environment, string? stdin, CancellationToken ct)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (key, value) in environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(ct);
        var stderr = process.StandardError.ReadToEndAsync(ct);
        if (stdin is not null) await process.StandardInput.WriteAsync(stdin);
        process.StandardInput.Close();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(TimeSpan.FromMinutes(5));
        try { await process.WaitForExitAsync(timeout.Token); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); throw; }
        return new Run(process.ExitCode, await stdout, await stderr);
    }
}
