using System.Security.Cryptography;
using System.Text;

namespace Dfs.AppHost.Processes;

/// <summary>
/// The system account a server runs as when the AppHost runs as root: PostgreSQL refuses root, and
/// RabbitMQ's Debian wrapper switches to `rabbitmq` itself. Their folders must belong to that account,
/// and the account must be able to reach them; when it cannot (a state folder under /root), the files
/// live under <see cref="RelocationRoot"/> instead.
/// </summary>
internal sealed class ServiceAccount(string userName, string homeDirectory)
{
    private const string SetprivPath = "/usr/bin/setpriv";

    public string UserName { get; } = userName;

    /// <summary>True when commands run as <see cref="UserName"/> rather than as ourselves.</summary>
    public static bool RunsAsRoot => Environment.IsPrivilegedProcess;

    /// <summary>Where relocated folders go: beside the account's own data when that exists.</summary>
    public string RelocationRoot => Directory.Exists(homeDirectory) ? Path.Combine(homeDirectory, "dfs") : Path.Combine("/var/tmp", "dfs-" + UserName);

    /// <summary>As root, runs the command as the account; setpriv execs in place (the pid stays the command's) and keeps the environment.</summary>
    public (string File, IReadOnlyList<string> Args) Command(string file, IReadOnlyList<string> args)
    {
        if (!RunsAsRoot) return (file, args);
        if (File.Exists(SetprivPath))
            return (SetprivPath, ["--reuid=" + UserName, "--regid=" + UserName, "--init-groups", "--", file, .. args]);
        return ("runuser", ["-u", UserName, "--", file, .. args]);
    }

    /// <summary>Whether the account can create files in <paramref name="folder"/> (and reach it).</summary>
    public async Task<bool> CanUseAsync(string folder, CancellationToken ct)
    {
        var (file, args) = Command("/usr/bin/test", ["-w", folder, "-a", "-x", folder]);
        return await CommandRunner.RunAsync(file, args, null, ct) == 0;
    }

    public async Task ChownAsync(string path, bool recursive, OutputLog? output, CancellationToken ct)
    {
        string[] args = recursive ? ["-R", $"{UserName}:{UserName}", path] : [$"{UserName}:{UserName}", path];
        var code = await CommandRunner.RunAsync("chown", args, output, ct);
        if (code != 0) throw new InvalidOperationException($"chown {string.Join(' ', args)} exited with code {code}; does the '{UserName}' user exist?");
    }

    /// <summary>
    /// A state folder made with mode 700 (Directory.CreateTempSubdirectory does) keeps other accounts
    /// out; search permission (o+x, not read) on our own folder is all they need to reach their subfolder.
    /// Parent folders are not ours to change: when one of them blocks, the caller relocates instead.
    /// </summary>
    public void GrantSearch(string stateDirectory, OutputLog output)
    {
        if (OperatingSystem.IsWindows()) return;
        var mode = File.GetUnixFileMode(stateDirectory);
        if (mode.HasFlag(UnixFileMode.OtherExecute)) return;
        File.SetUnixFileMode(stateDirectory, mode | UnixFileMode.OtherExecute);
        output.Append($"[apphost] allowed the {UserName} user to pass through {stateDirectory} (o+x)");
    }

    /// <summary>A short stable name for a path: relocated folders, socket folders, node names.</summary>
    public static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..12];
}
