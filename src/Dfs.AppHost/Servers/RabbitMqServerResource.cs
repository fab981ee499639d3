using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Servers;

/// <summary>
/// RabbitMQ from the machine's binaries as an executable resource: the broker on loopback ports DCP allocates, with its
/// own node name, database, logs, Erlang cookie and configuration files in the state folder, so that clusters in
/// different state folders (and a RabbitMQ set up for the machine) never meet. Its epmd is a resource of its own
/// (<see cref="EpmdResource"/>): left to itself the broker would spawn a daemon that outlives everything.
/// </summary>
public sealed class RabbitMqServerResource(string name, string serverScript, string rootDirectory)
    : ExecutableResource(name, ServerAccount.RabbitMq.Launcher(serverScript), rootDirectory), IResourceWithConnectionString, ICleanlyStoppedServer
{
    public const string EndpointName = "tcp";
    public const string DistributionEndpointName = "dist";
    public const string UserName = "guest";
    public const string Password = "guest";

    /// <summary>The real script behind Debian's /usr/sbin/rabbitmq-server wrapper, which would switch user with su and log to a file.</summary>
    public const string DebianServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    internal const string NodeNameVariable = "RABBITMQ_NODENAME";

    private EndpointReference? _endpoint;
    private string? _baseDirectory;

    public string ServerScript { get; } = serverScript;

    public string RootDirectory { get; } = rootDirectory;

    /// <summary>dfs-HASH@localhost, HASH from the resource's folder: unique per cluster and stable across runs (mnesia is named after it).</summary>
    public string NodeName { get; } = "dfs-" + ServerAccount.Hash(Path.GetFullPath(rootDirectory)) + "@localhost";

    /// <summary>The broker's HOME (cookie, enabled_plugins, configuration) holding mnesia/ and log/.</summary>
    public string BaseDirectory => _baseDirectory ?? Path.Combine(RootDirectory, "broker");

    public EndpointReference PrimaryEndpoint => _endpoint ??= new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"amqp://{UserName}:{Password}@{PrimaryEndpoint.Property(EndpointProperty.IPV4Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}/");

    /// <summary>Debian's script, else rabbitmq-server on PATH or in an sbin folder; null when RabbitMQ is not installed.</summary>
    public static string? FindServerScript()
    {
        if (File.Exists(DebianServerScript)) return DebianServerScript;
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]);
        return folders.Select(f => Path.Combine(f, "rabbitmq-server")).FirstOrDefault(File.Exists);
    }

    /// <summary>Folders owned by the rabbitmq user, no plugins, a cookie, and no stale broker of this node left running.</summary>
    internal async Task PrepareAsync(string stateDirectory, ILogger log, CancellationToken ct)
    {
        if (!File.Exists(ServerScript))
            throw new InvalidOperationException($"{ServerScript} does not exist; install the rabbitmq-server package or use --profile embedded.");

        var stale = ProcessTable.Find(NodeNameVariable + "=" + NodeName);
        if (stale.Count > 0)
        {
            log.LogWarning("Stopping a stale broker of node {Node} (pids {Pids})", NodeName, string.Join(", ", stale));
            if (!await ProcessTable.StopAsync(stale, TimeSpan.FromSeconds(15), ct: ct))
                throw new InvalidOperationException($"Processes of a stale broker {NodeName} do not exit even after SIGKILL.");
        }

        _baseDirectory = await ServerAccount.RabbitMq.ReachableFolderAsync(stateDirectory, Path.Combine(RootDirectory, "broker"), log, ct);
        Directory.CreateDirectory(Path.Combine(_baseDirectory, "mnesia"));
        Directory.CreateDirectory(Path.Combine(_baseDirectory, "log"));
        // No plugins: the management plugin alone adds about 13 s to every start.
        var plugins = Path.Combine(_baseDirectory, "enabled_plugins");
        if (!File.Exists(plugins) || await File.ReadAllTextAsync(plugins, ct) != "[].\n") await File.WriteAllTextAsync(plugins, "[].\n", ct);
        WriteCookie(Path.Combine(_baseDirectory, ".erlang.cookie"));
        await ServerAccount.RabbitMq.ChownAsync(_baseDirectory, recursive: true, log, ct);
    }

    /// <summary>
    /// When the AppHost stops, DCP stops the broker and its epmd at once; the broker's script stops the VM with rabbitmqctl,
    /// which needs epmd. Stopping the broker first, while epmd still runs, keeps that stop clean.
    /// </summary>
    public async Task StopCleanlyAsync(ILogger log, CancellationToken ct)
    {
        var processes = ProcessTable.Find(NodeNameVariable + "=" + NodeName);
        var script = processes.Where(pid => ProcessTable.CommandLine(pid)?.Contains("rabbitmq-server", StringComparison.Ordinal) == true).ToList();
        if (script.Count == 0) return;
        log.LogInformation("Stopping the broker {Node}", NodeName);
        foreach (var pid in script) ProcessTable.Signal(pid, ProcessTable.SigTerm);
        if (!await ProcessTable.StopAsync(processes, TimeSpan.FromSeconds(20), politeSignal: 0, ct))
            log.LogError("Processes of the broker {Node} did not exit even after SIGKILL", NodeName);
    }

    /// <summary>Erlang insists on a cookie only its owner can read; chown follows as root.</summary>
    private static void WriteCookie(string path)
    {
        if (OperatingSystem.IsWindows()) return;
        if (!File.Exists(path))
        {
            using var writer = new StreamWriter(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            });
            writer.Write(System.Security.Cryptography.RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZ", 20));
        }
        if (File.GetUnixFileMode(path) != UnixFileMode.UserRead) File.SetUnixFileMode(path, UnixFileMode.UserRead);
    }
}

/// <summary>The Erlang port mapper of one broker, on a loopback port of its own, in the foreground where DCP can stop it.</summary>
public sealed class EpmdResource(string name, string program, string workingDirectory) : ExecutableResource(name, program, workingDirectory)
{
    public const string EndpointName = "tcp";
    public const string DefaultProgram = "/usr/bin/epmd";

    private EndpointReference? _endpoint;

    public EndpointReference PrimaryEndpoint => _endpoint ??= new(this, EndpointName);
}
