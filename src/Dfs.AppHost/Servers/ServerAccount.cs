using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Servers;

/// <summary>
/// The system account a server runs as when the AppHost runs as root: PostgreSQL refuses root, and RabbitMQ's files
/// belong to `rabbitmq` on a Debian machine. Its folders must belong to that account and be reachable by it; when they
/// are not (a state folder under /root, mode 700), they live under <see cref="RelocationRoot"/>, linked from the state folder.
/// </summary>
internal sealed class ServerAccount(string userName, string homeDirectory)
{
    private const string Setpriv = "/usr/bin/setpriv";

    public static readonly ServerAccount Postgres = new("postgres", "/var/lib/postgresql");
    public static readonly ServerAccount RabbitMq = new("rabbitmq", "/var/lib/rabbitmq");

    public string UserName { get; } = userName;

    /// <summary>True when servers run as <see cref="UserName"/> rather than as ourselves.</summary>
    public static bool SwitchesUser => Environment.IsPrivilegedProcess;

    /// <summary>Where relocated folders go: beside the account's own data when that exists.</summary>
    public string RelocationRoot => Directory.Exists(homeDirectory) ? Path.Combine(homeDirectory, "dfs") : Path.Combine("/var/tmp", "dfs-" + UserName);

    /// <summary>The program DCP starts: setpriv as root (it execs in place, so the pid DCP sees is the server's own).</summary>
    public string Launcher(string program) => SwitchesUser ? Setpriv : program;

    /// <summary>The arguments that go before the server's own when <see cref="Launcher"/> is setpriv.</summary>
    public IReadOnlyList<string> LauncherArguments(string program) =>
        SwitchesUser ? ["--reuid=" + UserName, "--regid=" + UserName, "--init-groups", "--", program] : [];

    /// <summary>Runs a short command (initdb, chown) as this account to completion; its output goes to the resource's log.</summary>
    public Task<int> RunAsync(string program, IReadOnlyList<string> arguments, ILogger log, CancellationToken ct) =>
        RunCommandAsync(Launcher(program), [.. LauncherArguments(program), .. arguments], log, ct);

    /// <summary>Whether the account can create files in <paramref name="folder"/> (and reach it).</summary>
    public async Task<bool> CanUseAsync(string folder, ILogger log, CancellationToken ct) =>
        !SwitchesUser || await RunAsync("/usr/bin/test", ["-w", folder, "-a", "-x", folder], log, ct) == 0;

    public async Task ChownAsync(string path, bool recursive, ILogger log, CancellationToken ct)
    {
        if (!SwitchesUser) return;
        string[] args = recursive ? ["-R", $"{UserName}:{UserName}", path] : [$"{UserName}:{UserName}", path];
        var code = await RunCommandAsync("chown", args, log, ct);
        if (code != 0) throw new InvalidOperationException($"chown {string.Join(' ', args)} exited with code {code}; does the '{UserName}' user exist?");
    }

    /// <summary>
    /// A state folder made with mode 700 keeps other accounts out; search permission (o+x, not read) on our own folder is
    /// all they need to reach their subfolder. Parent folders are not ours to change: when one blocks, the caller relocates.
    /// </summary>
    public void GrantSearch(string stateDirectory, ILogger log)
    {
        if (!SwitchesUser || OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(stateDirectory);
        if (mode.HasFlag(UnixFileMode.OtherExecute)) return;
        File.SetUnixFileMode(stateDirectory, mode | UnixFileMode.OtherExecute);
        log.LogInformation("Allowed the {User} user to pass through {Folder} (o+x)", UserName, stateDirectory);
    }

    /// <summary>
    /// The folder the server keeps its files in: <paramref name="wanted"/> when the account can use it, else a folder of
    /// its own under <see cref="RelocationRoot"/> with <paramref name="wanted"/> made a link to it, so the state folder still
    /// shows where everything is.
    /// </summary>
    public async Task<string> ReachableFolderAsync(string stateDirectory, string wanted, ILogger log, CancellationToken ct)
    {
        var link = new DirectoryInfo(wanted);
        if (link.LinkTarget is { } target) return Path.GetFullPath(target, link.Parent!.FullName);
        var parent = link.Parent!.FullName;
        Directory.CreateDirectory(parent);
        if (!SwitchesUser)
        {
            Directory.CreateDirectory(wanted);
            return wanted;
        }
        GrantSearch(stateDirectory, log);
        await ChownAsync(parent, recursive: false, log, ct);
        if (await CanUseAsync(parent, log, ct))
        {
            Directory.CreateDirectory(wanted);
            await ChownAsync(wanted, recursive: true, log, ct);
            return wanted;
        }
        if (link.Exists)
            throw new InvalidOperationException(
                $"The {UserName} user cannot reach {wanted}; give it access to {parent} (every parent folder needs o+x) or use another --state-dir.");
        var real = Path.Combine(RelocationRoot, Hash(Path.GetFullPath(wanted)));
        Directory.CreateDirectory(real);
        await ChownAsync(RelocationRoot, recursive: false, log, ct);
        await ChownAsync(real, recursive: true, log, ct);
        Directory.CreateSymbolicLink(wanted, real);
        log.LogInformation("The {User} user cannot reach {Folder}; its files live in {Real} (linked from {Folder})", UserName, parent, real, wanted);
        return real;
    }

    /// <summary>A short stable name for a path: relocated folders, socket folders, broker node names.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];

    public static async Task<int> RunCommandAsync(string program, IEnumerable<string> arguments, ILogger log, CancellationToken ct)
    {
        var start = new ProcessStartInfo
        {
            FileName = program,
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) log.LogInformation("{Line}", e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) log.LogInformation("{Line}", e.Data); };
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
