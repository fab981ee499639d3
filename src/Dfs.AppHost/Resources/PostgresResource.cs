using System.Globalization;
using System.Text;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Dfs.Contracts.Cluster;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Dfs.AppHost.Resources;

/// <summary>
/// Our own PostgreSQL server: initdb on first run into StateDir/postgres/data, then `postgres` on a
/// loopback port it keeps across runs. PostgreSQL refuses to run as root, so as root the binaries run
/// as the `postgres` user on folders it owns. Healthy once SELECT 1 works and the database exists.
/// </summary>
public sealed class PostgresResource : ProcessResource, IResourceWithConnectionString
{
    public const string DatabaseName = "dfs";
    public const string UserName = "postgres";
    private const int MaxSocketPathBytes = 107;
    private static readonly ServiceAccount Account = new(UserName, "/var/lib/postgresql");

    private int _port;
    private string? _dataDir;
    private string? _socketDir;
    private bool _socketDirIsTemporary;
    private bool _databaseEnsured;

    public PostgresResource(string binDirectory, string name = ResourceNames.Postgres, string connectionStringName = ResourceNames.MetadataConnection)
        : base(name, ResourceKinds.Postgres)
    {
        BinDirectory = binDirectory;
        ConnectionStringName = connectionStringName;
    }

    public string BinDirectory { get; }

    public string ConnectionStringName { get; }

    public int Port => _port;

    /// <summary>The cluster's data folder (under StateDir unless the postgres user cannot reach it there).</summary>
    public string DataPath => _dataDir ?? Path.Combine(DataDirectory, "data");

    /// <summary>Set when the cluster lives outside StateDir because the postgres user cannot reach it there.</summary>
    public string? RelocatedDirectory { get; private set; }

    internal override IEnumerable<string> ExternalPaths => RelocatedDirectory is null ? [] : [RelocatedDirectory];

    public override Uri? Url => _port == 0 ? null : new Uri($"tcp://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}");

    public string? GetConnectionString() =>
        _port == 0 ? null : $"Host=127.0.0.1;Port={_port.ToString(CultureInfo.InvariantCulture)};Username={UserName};Database={DatabaseName};Pooling=true;Maximum Pool Size=50";

    private static bool RunsAsRoot => ServiceAccount.RunsAsRoot;

    private protected override async Task PrepareAsync(CancellationToken ct)
    {
        foreach (var tool in (string[])["initdb", "postgres"])
            if (!File.Exists(Path.Combine(BinDirectory, tool)))
                throw new FileNotFoundException($"{Path.Combine(BinDirectory, tool)} does not exist; install the postgresql package or use the embedded profile.");

        if (_dataDir is null) await ResolveFoldersAsync(ct);
        Directory.CreateDirectory(_socketDir!);
        if (RunsAsRoot) await ChownAsync(_socketDir!, recursive: false, ct);

        await StopStalePostmasterAsync(ct);

        if (!File.Exists(Path.Combine(_dataDir!, "PG_VERSION")))
        {
            Output.Append($"[apphost] initdb {_dataDir}");
            var (file, args) = AsPostgresUser(Path.Combine(BinDirectory, "initdb"),
                ["-D", _dataDir!, "-A", "trust", "-U", UserName, "-E", "UTF8", "--no-locale"]);
            var code = await CommandRunner.RunAsync(file, args, Output, ct);
            if (code != 0) throw new InvalidOperationException($"initdb exited with code {code}.");
        }

        // Kept for the run (the gateway was given this address), remembered for the next.
        if (_port == 0) _port = Ports.RememberedOrFree(Path.Combine(DataDirectory, "port"));
        _databaseEnsured = false;
    }

    private protected override LaunchSpec CreateLaunchSpec(IReadOnlyDictionary<string, string?> environment)
    {
        var (file, args) = AsPostgresUser(Path.Combine(BinDirectory, "postgres"),
        [
            "-D", _dataDir!,
            "-p", _port.ToString(CultureInfo.InvariantCulture),
            "-k", _socketDir!,
            "-c", "listen_addresses=127.0.0.1",
        ]);
        return new LaunchSpec(file, args, environment, DataDirectory);
    }

    private protected override async Task<bool> CheckHealthAsync(CancellationToken ct)
    {
        var probe = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = _port,
            Username = UserName,
            Database = "postgres",
            Pooling = false,
            Timeout = 3,
            CommandTimeout = 5,
        };
        await using var connection = new NpgsqlConnection(probe.ConnectionString);
        await connection.OpenAsync(ct);
        await using (var select = new NpgsqlCommand("SELECT 1", connection))
            await select.ExecuteScalarAsync(ct);
        if (_databaseEnsured) return true;

        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection))
        {
            exists.Parameters.AddWithValue("name", DatabaseName);
            if (await exists.ExecuteScalarAsync(ct) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{DatabaseName}\"", connection);
                try { await create.ExecuteNonQueryAsync(ct); }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase) { }
                Output.Append($"[apphost] created database {DatabaseName}");
            }
        }
        _databaseEnsured = true;
        return true;
    }

    /// <summary>SIGINT is PostgreSQL's fast shutdown: clients are disconnected, data is flushed.</summary>
    private protected override void RequestStop(ChildProcess process)
    {
        var postmaster = ReadPostmasterPid() is { } pid && ProcessTable.IsAlive(pid) ? pid : process.Pid;
        Native.Signal(postmaster, Native.SIGINT);
    }

    private protected override Task OnStoppedAsync()
    {
        if (_socketDirIsTemporary && _socketDir is not null)
        {
            try { Directory.Delete(_socketDir, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return Task.CompletedTask;
    }

    private async Task ResolveFoldersAsync(CancellationToken ct)
    {
        var root = DataDirectory;
        Directory.CreateDirectory(root);
        var dataDir = Path.Combine(root, "data");
        var socketDir = Path.Combine(root, "sock");

        if (RunsAsRoot)
        {
            await ChownAsync(root, recursive: true, ct);
            Account.GrantSearch(Context.StateDirectory, Output);
            if (!await Account.CanUseAsync(root, ct))
            {
                // Typically StateDir under /root (mode 700): keep the cluster where the postgres user can reach it, linked from StateDir.
                var hash = ServiceAccount.Hash(Path.GetFullPath(root));
                var home = Account.RelocationRoot;
                var real = Path.Combine(home, hash);
                Directory.CreateDirectory(real);
                await ChownAsync(home, recursive: false, ct);
                await ChownAsync(real, recursive: true, ct);
                var link = new FileInfo(dataDir);
                if (link.LinkTarget is null && Directory.Exists(dataDir))
                    throw new InvalidOperationException(
                        $"The postgres user cannot reach {dataDir}; give it access to {root} (every parent folder needs o+x) or use another --state-dir.");
                if (link.LinkTarget is null) Directory.CreateSymbolicLink(dataDir, Path.Combine(real, "data"));
                Output.Append($"[apphost] the postgres user cannot reach {root}; the cluster lives in {Path.Combine(real, "data")} (linked from {dataDir})");
                dataDir = Path.Combine(real, "data");
                RelocatedDirectory = real;
                socketDir = TemporarySocketDir(hash);
                _socketDirIsTemporary = true;
            }
        }

        // Unix socket paths are limited to 107 bytes, ".s.PGSQL.65535.lock" included.
        if (!_socketDirIsTemporary && Encoding.UTF8.GetByteCount(Path.Combine(socketDir, ".s.PGSQL.65535.lock")) > MaxSocketPathBytes)
        {
            socketDir = TemporarySocketDir(ServiceAccount.Hash(Path.GetFullPath(root)));
            _socketDirIsTemporary = true;
        }

        _dataDir = dataDir;
        _socketDir = socketDir;
    }

    private static string TemporarySocketDir(string hash) => Path.Combine("/tmp", "dfs-pg-" + hash);

    /// <summary>A postmaster left by an AppHost that was killed still holds the data folder: stop it first.</summary>
    private async Task StopStalePostmasterAsync(CancellationToken ct)
    {
        if (ReadPostmasterPid() is not { } pid || !ProcessTable.IsAlive(pid)) return;
        if (ProcessTable.CommandLine(pid) is not { } cmd || !cmd.Contains("postgres", StringComparison.Ordinal)) return;
        Output.Append($"[apphost] stopping a stale postmaster (pid {pid}) that still holds {_dataDir}");
        Logger.LogWarning("Stopping a stale postmaster (pid {Pid}) that still holds {DataDir}", pid, _dataDir);
        Native.Signal(pid, Native.SIGINT);
        if (await ProcessTable.WaitForExitAsync(pid, Context.Options.StopGracePeriod + TimeSpan.FromSeconds(5), ct)) return;
        Native.Signal(pid, Native.SIGKILL);
        if (!await ProcessTable.WaitForExitAsync(pid, TimeSpan.FromSeconds(10), ct))
            throw new InvalidOperationException($"A stale postmaster (pid {pid}) holds {_dataDir} and does not exit.");
    }

    private int? ReadPostmasterPid()
    {
        var file = Path.Combine(DataPath, "postmaster.pid");
        try
        {
            using var reader = new StreamReader(file);
            return int.TryParse(reader.ReadLine(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    private static (string File, IReadOnlyList<string> Args) AsPostgresUser(string file, IReadOnlyList<string> args) => Account.Command(file, args);

    private Task ChownAsync(string path, bool recursive, CancellationToken ct) => Account.ChownAsync(path, recursive, Output, ct);
}
