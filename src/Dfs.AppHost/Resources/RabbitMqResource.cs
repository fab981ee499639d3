using System.Globalization;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Dfs.Contracts.Cluster;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Dfs.AppHost.Resources;

/// <summary>
/// Our own RabbitMQ broker: `rabbitmq-server` on loopback ports it keeps across runs, with its own node
/// name, database, logs, Erlang cookie and epmd, so that clusters in different state folders never meet.
/// As root it runs as the `rabbitmq` user on folders it owns, as Debian's wrapper would, but without the
/// wrapper, which fixes the folders and sends the console to a file. Healthy once an AMQP connection as
/// guest opens: the broker accepts one only when it has fully booted.
/// </summary>
/// <remarks>
/// The broker ends in a beam.smp below the script, and the epmd it starts daemonizes out of our process
/// group; every process of this broker carries RABBITMQ_NODENAME=<see cref="NodeName"/>, which is how
/// leftovers (epmd after a stop, a whole broker after the AppHost was killed) are found and stopped.
/// </remarks>
public sealed class RabbitMqResource : ProcessResource, IResourceWithConnectionString
{
    public const string UserName = "guest";
    public const string Password = "guest";

    /// <summary>The real script behind Debian's /usr/sbin/rabbitmq-server wrapper.</summary>
    public const string DebianServerScript = "/usr/lib/rabbitmq/bin/rabbitmq-server";

    private const string NodeNameVariable = "RABBITMQ_NODENAME";
    private static readonly ServiceAccount Account = new("rabbitmq", "/var/lib/rabbitmq");
    /// <summary>A clean stop takes 2-3 s (it flushes the message stores); a killed broker recovers slowly at its next start.</summary>
    private static readonly TimeSpan MinimumStopGracePeriod = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan LeftoverGracePeriod = TimeSpan.FromSeconds(3);

    private int _port;
    private int _distributionPort;
    private int _epmdPort;
    private string? _baseDirectory;
    private IConnection? _probe;
    private bool _booted;

    public RabbitMqResource(string serverPath, string name = ResourceNames.RabbitMq, string connectionStringName = ResourceNames.MessagingConnection)
        : base(name, ResourceKinds.RabbitMq)
    {
        ServerPath = serverPath;
        ConnectionStringName = connectionStringName;
    }

    /// <summary>The rabbitmq-server script that is run.</summary>
    public string ServerPath { get; }

    public string ConnectionStringName { get; }

    /// <summary>AMQP port on 127.0.0.1; 0 before the first start.</summary>
    public int Port => _port;

    /// <summary>Erlang distribution port (RABBITMQ_DIST_PORT), used by rabbitmqctl.</summary>
    public int DistributionPort => _distributionPort;

    /// <summary>The port of this broker's own epmd (ERL_EPMD_PORT).</summary>
    public int EpmdPort => _epmdPort;

    /// <summary>dfs-HASH@localhost, HASH from the state folder: unique per cluster and stable across runs (the database folder is named after it).</summary>
    public string NodeName => "dfs-" + ServiceAccount.Hash(Context.StateDirectory) + "@localhost";

    /// <summary>The broker's HOME (Erlang cookie, enabled_plugins) holding mnesia/ and log/: StateDir/rabbitmq unless relocated.</summary>
    public string BaseDirectory => _baseDirectory ?? DataDirectory;

    public string MnesiaDirectory => Path.Combine(BaseDirectory, "mnesia");

    public string LogDirectory => Path.Combine(BaseDirectory, "log");

    /// <summary>Set when the broker's files live outside StateDir because the rabbitmq user cannot reach it there.</summary>
    public string? RelocatedDirectory { get; private set; }

    internal override IEnumerable<string> ExternalPaths => RelocatedDirectory is null ? [] : [RelocatedDirectory];

    public override Uri? Url => _port == 0 ? null : new Uri($"amqp://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}");

    public string? GetConnectionString() =>
        _port == 0 ? null : $"amqp://{UserName}:{Password}@127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}/";

    /// <summary>Live processes of this broker (wrapper, beam.smp, epmd, port programs), whoever started them.</summary>
    public IReadOnlyList<int> FindProcesses() => ProcessTable.FindByEnvironment(NodeNameVariable, NodeName);

    /// <summary>Debian's script, else rabbitmq-server on PATH or in an sbin folder; null when RabbitMQ is not installed.</summary>
    public static string? FindServer()
    {
        if (File.Exists(DebianServerScript)) return DebianServerScript;
        var folders = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/local/sbin", "/usr/sbin", "/sbin"]);
        return folders.Select(f => Path.Combine(f, "rabbitmq-server")).FirstOrDefault(File.Exists);
    }

    private protected override async Task PrepareAsync(CancellationToken ct)
    {
        if (!File.Exists(ServerPath))
            throw new FileNotFoundException($"{ServerPath} does not exist; install the rabbitmq-server package or use the embedded profile.", ServerPath);

        if (_baseDirectory is null) await ResolveFoldersAsync(ct);

        // Before the ports are chosen: a stale epmd would hold the remembered one.
        await StopLeftoversAsync(stale: true, ct);

        Directory.CreateDirectory(MnesiaDirectory);
        Directory.CreateDirectory(LogDirectory);
        // No plugins: the management plugin alone adds about 13 s to every start.
        var plugins = Path.Combine(BaseDirectory, "enabled_plugins");
        if (!File.Exists(plugins) || File.ReadAllText(plugins) != "[].\n") File.WriteAllText(plugins, "[].\n");
        EnsureCookie();
        if (ServiceAccount.RunsAsRoot) await Account.ChownAsync(BaseDirectory, recursive: true, Output, ct);

        // Kept for the run (others were given the address), remembered for the next.
        if (_port == 0) ChoosePorts();
        _booted = false;
    }

    private protected override void AddDefaultEnvironment(IDictionary<string, string?> environment)
    {
        // Nothing of a RabbitMQ set up for the machine (or the AppHost's shell) may reach our broker.
        foreach (var key in Environment.GetEnvironmentVariables().Keys.OfType<string>())
            if (key.StartsWith("RABBITMQ_", StringComparison.Ordinal) || key.StartsWith("ERL_", StringComparison.Ordinal))
                environment[key] = null;
        // Under systemd the script would exec the VM directly, without the shell that turns SIGTERM into a clean stop.
        environment["NOTIFY_SOCKET"] = null;

        environment[NodeNameVariable] = NodeName;
        environment["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
        environment["RABBITMQ_NODE_PORT"] = _port.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_DIST_PORT"] = _distributionPort.ToString(CultureInfo.InvariantCulture);
        environment["RABBITMQ_MNESIA_BASE"] = MnesiaDirectory;
        environment["RABBITMQ_LOG_BASE"] = LogDirectory;
        // The console log goes to stdout, hence to StateDir/logs/rabbitmq.log and the tail in snapshots.
        environment["RABBITMQ_LOGS"] = "-";
        environment["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(BaseDirectory, "enabled_plugins");
        // Configuration of our own (none unless someone writes these files), never /etc/rabbitmq's.
        environment["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(BaseDirectory, "rabbitmq-env.conf");
        environment["RABBITMQ_CONFIG_FILE"] = Path.Combine(BaseDirectory, "rabbitmq.conf");
        environment["RABBITMQ_CONFIG_FILES"] = Path.Combine(BaseDirectory, "conf.d");
        environment["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(BaseDirectory, "advanced.config");
        environment["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1}";
        environment["ERL_EPMD_ADDRESS"] = "127.0.0.1";
        environment["ERL_EPMD_PORT"] = _epmdPort.ToString(CultureInfo.InvariantCulture);
        // Where Erlang keeps its cookie.
        environment["HOME"] = BaseDirectory;
    }

    private protected override LaunchSpec CreateLaunchSpec(IReadOnlyDictionary<string, string?> environment)
    {
        var (file, args) = Account.Command(ServerPath, []);
        return new LaunchSpec(file, args, environment, BaseDirectory);
    }

    /// <summary>
    /// The broker said it has booted (its listener opens a moment before the last boot steps) and an AMQP
    /// connection as guest is open. The connection is kept while it stays open: a fresh one every second
    /// would fill the broker's log.
    /// </summary>
    private protected override async Task<bool> CheckHealthAsync(CancellationToken ct)
    {
        if (!_booted && !(_booted = HasBooted())) return false;
        if (_probe is { IsOpen: true }) return true;
        await CloseProbeAsync();
        var factory = new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = _port,
            UserName = UserName,
            Password = Password,
            ClientProvidedName = "dfs-apphost-health",
            AutomaticRecoveryEnabled = false,
            TopologyRecoveryEnabled = false,
            RequestedConnectionTimeout = TimeSpan.FromSeconds(3),
            HandshakeContinuationTimeout = TimeSpan.FromSeconds(5),
            // A broker that hangs stops answering heartbeats: the connection closes and the probe fails.
            RequestedHeartbeat = TimeSpan.FromSeconds(5),
        };
        _probe = await factory.CreateConnectionAsync(ct);
        return _probe.IsOpen;
    }

    /// <summary>"Server startup complete" (the log) or "Starting broker... completed" (the banner) since this launch.</summary>
    private bool HasBooted()
    {
        var launched = $" starting {Name}: ";
        var lines = Output.Tail(1000);
        for (var i = lines.Count - 1; i >= 0; i--)
        {
            var line = lines[i];
            if (line.StartsWith("[apphost]", StringComparison.Ordinal) && line.Contains(launched, StringComparison.Ordinal)) return false;
            if (line.Contains("Server startup complete", StringComparison.Ordinal)
                || (line.Contains(" completed with ", StringComparison.Ordinal) && line.Contains(" plugins", StringComparison.Ordinal)))
                return true;
        }
        return false;
    }

    private protected override TimeSpan StopGracePeriod =>
        Context.Options.StopGracePeriod > MinimumStopGracePeriod ? Context.Options.StopGracePeriod : MinimumStopGracePeriod;

    /// <summary>The process group is gone; epmd (a daemon outside it) and any straggler go too.</summary>
    private protected override async Task OnStoppedAsync()
    {
        await CloseProbeAsync();
        await StopLeftoversAsync(stale: false, CancellationToken.None);
    }

    private protected override void OnKilledNow()
    {
        foreach (var pid in FindProcesses()) Native.Signal(pid, Native.SIGKILL);
    }

    private async Task CloseProbeAsync()
    {
        if (_probe is not { } probe) return;
        _probe = null;
        try
        {
            await probe.AbortAsync(TimeSpan.FromSeconds(1));
            await probe.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Logger.LogDebug(ex, "Closing the health connection to {Resource} failed", Name);
        }
    }

    /// <summary>
    /// SIGTERM to every process of this broker, SIGKILL to whatever remains after the grace period.
    /// <paramref name="stale"/>: left by an AppHost that was killed (a whole broker); else what outlived our own
    /// process group (epmd).
    /// </summary>
    private async Task StopLeftoversAsync(bool stale, CancellationToken ct)
    {
        var pids = FindProcesses();
        if (pids.Count == 0) return;
        var described = string.Join(", ", pids.Select(p => $"{p} {ProcessTable.Name(p)}"));
        if (stale)
        {
            Output.Append($"[apphost] stopping a stale broker of node {NodeName} (pids {described})");
            Logger.LogWarning("Stopping a stale broker of node {Node} (pids {Pids})", NodeName, described);
        }
        else
        {
            Output.Append($"[apphost] stopping what is left of {Name}: {described}");
        }

        foreach (var pid in pids) Native.Signal(pid, Native.SIGTERM);
        if (await AllExitedAsync(pids, stale ? StopGracePeriod : LeftoverGracePeriod, ct)) return;
        foreach (var pid in pids) Native.Signal(pid, Native.SIGKILL);
        if (await AllExitedAsync(pids, TimeSpan.FromSeconds(5), ct)) return;
        var message = $"Processes of the broker {NodeName} do not exit even after SIGKILL: {string.Join(", ", pids.Where(ProcessTable.IsAlive))}.";
        if (stale) throw new InvalidOperationException(message);
        Logger.LogError("{Message}", message);
    }

    private static async Task<bool> AllExitedAsync(IReadOnlyList<int> pids, TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        foreach (var pid in pids)
        {
            var left = deadline - DateTime.UtcNow;
            if (!await ProcessTable.WaitForExitAsync(pid, left > TimeSpan.Zero ? left : TimeSpan.Zero, ct)) return false;
        }
        return true;
    }

    private async Task ResolveFoldersAsync(CancellationToken ct)
    {
        var root = DataDirectory;
        Directory.CreateDirectory(root);
        if (ServiceAccount.RunsAsRoot)
        {
            await Account.ChownAsync(root, recursive: true, Output, ct);
            Account.GrantSearch(Context.StateDirectory, Output);
            if (!await Account.CanUseAsync(root, ct))
            {
                // Typically StateDir under /root (mode 700): the broker's files live where the rabbitmq user can reach them, linked from StateDir.
                var home = Account.RelocationRoot;
                var real = Path.Combine(home, ServiceAccount.Hash(Path.GetFullPath(root)));
                Directory.CreateDirectory(real);
                await Account.ChownAsync(home, recursive: false, Output, ct);
                foreach (var folder in (string[])["mnesia", "log"])
                {
                    var link = new DirectoryInfo(Path.Combine(root, folder));
                    if (link.LinkTarget is null && link.Exists)
                        throw new InvalidOperationException(
                            $"The rabbitmq user cannot reach {link.FullName}; give it access to {root} (every parent folder needs o+x) or use another --state-dir.");
                    if (link.LinkTarget is null) Directory.CreateSymbolicLink(link.FullName, Path.Combine(real, folder));
                }
                Output.Append($"[apphost] the rabbitmq user cannot reach {root}; the broker's files live in {real} (mnesia and log linked from {root})");
                RelocatedDirectory = real;
                _baseDirectory = real;
                return;
            }
        }
        _baseDirectory = root;
    }

    /// <summary>Erlang insists on a cookie only its owner can read; it belongs to whoever runs the broker (chown follows as root).</summary>
    private void EnsureCookie()
    {
        if (OperatingSystem.IsWindows()) return;
        var cookie = Path.Combine(BaseDirectory, ".erlang.cookie");
        if (!File.Exists(cookie))
        {
            var value = string.Concat(Enumerable.Range(0, 20).Select(_ => (char)('A' + System.Security.Cryptography.RandomNumberGenerator.GetInt32(26))));
            using (var stream = new FileStream(cookie, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
            }))
            using (var writer = new StreamWriter(stream))
                writer.Write(value);
        }
        if (File.GetUnixFileMode(cookie) != UnixFileMode.UserRead) File.SetUnixFileMode(cookie, UnixFileMode.UserRead);
    }

    private void ChoosePorts()
    {
        var taken = new HashSet<int>();
        _port = Choose("port");
        _distributionPort = Choose("dist-port");
        _epmdPort = Choose("epmd-port");

        int Choose(string file)
        {
            var path = Path.Combine(DataDirectory, file);
            var port = Ports.RememberedOrFree(path);
            while (!taken.Add(port))
            {
                port = Ports.GetFreePort();
                File.WriteAllText(path, port.ToString(CultureInfo.InvariantCulture));
            }
            return port;
        }
    }
}
