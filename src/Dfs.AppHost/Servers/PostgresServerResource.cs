using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Servers;

/// <summary>
/// PostgreSQL from the machine's binaries as an executable resource: `postgres` on a loopback port DCP allocates, its
/// cluster in the state folder (initdb on the first start), the `dfs` database created once it answers. As root it runs
/// as the `postgres` user, which PostgreSQL requires.
/// </summary>
public sealed class PostgresServerResource(string name, string binDirectory, string rootDirectory)
    : ExecutableResource(name, ServerAccount.Postgres.Launcher(Path.Combine(binDirectory, "postgres")), rootDirectory),
        IResourceWithConnectionString, ICleanlyStoppedServer
{
    public const string EndpointName = "tcp";
    public const string DatabaseName = "dfs";
    public const string UserName = "postgres";

    private EndpointReference? _endpoint;
    private string? _dataDirectory;

    public string BinDirectory { get; } = binDirectory;

    /// <summary>STATE/NAME: the resource's folder in the state folder.</summary>
    public string RootDirectory { get; } = rootDirectory;

    /// <summary>The cluster's data folder: RootDirectory/data, or where it was relocated when the postgres user cannot reach it.</summary>
    public string DataDirectory => _dataDirectory ?? Path.Combine(RootDirectory, "data");

    public EndpointReference PrimaryEndpoint => _endpoint ??= new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"Host={PrimaryEndpoint.Property(EndpointProperty.IPV4Host)};Port={PrimaryEndpoint.Property(EndpointProperty.Port)};Username={UserName};Database={DatabaseName}");

    /// <summary>Folders owned by the postgres user, a stale postmaster of this cluster stopped, initdb on the first run.</summary>
    internal async Task PrepareAsync(string stateDirectory, ILogger log, CancellationToken ct)
    {
        foreach (var tool in (string[])["initdb", "postgres"])
            if (!File.Exists(Path.Combine(BinDirectory, tool)))
                throw new InvalidOperationException($"{Path.Combine(BinDirectory, tool)} does not exist; install the postgresql package or use --profile embedded.");

        _dataDirectory = await ServerAccount.Postgres.ReachableFolderAsync(stateDirectory, Path.Combine(RootDirectory, "data"), log, ct);
        await StopStalePostmasterAsync(log, ct);
        if (File.Exists(Path.Combine(_dataDirectory, "PG_VERSION"))) return;

        log.LogInformation("initdb {DataDirectory}", _dataDirectory);
        var code = await ServerAccount.Postgres.RunAsync(Path.Combine(BinDirectory, "initdb"),
            ["-D", _dataDirectory, "-A", "trust", "-U", UserName, "-E", "UTF8", "--no-locale"], log, ct);
        if (code != 0) throw new InvalidOperationException($"initdb exited with code {code}; see the console log of {Name}.");
    }

    /// <summary>
    /// PostgreSQL takes SIGTERM as a "smart" shutdown that waits for every client to leave, which the services' pooled
    /// connections never do before DCP kills it (and a killed PostgreSQL runs crash recovery at its next start); SIGINT is
    /// the fast shutdown: clients are disconnected, data is flushed, the server exits.
    /// </summary>
    public async Task StopCleanlyAsync(ILogger log, CancellationToken ct)
    {
        if (PostmasterPid() is not { } pid || !ProcessTable.IsAlive(pid)) return;
        log.LogInformation("Fast shutdown of PostgreSQL (pid {Pid})", pid);
        if (!await ProcessTable.StopAsync([pid], TimeSpan.FromSeconds(15), ProcessTable.SigInt, ct))
            log.LogError("PostgreSQL (pid {Pid}) did not exit even after SIGKILL", pid);
    }

    /// <summary>A postmaster left by an AppHost that was killed still holds the data folder: stop it first.</summary>
    private async Task StopStalePostmasterAsync(ILogger log, CancellationToken ct)
    {
        if (PostmasterPid() is not { } pid || !ProcessTable.IsAlive(pid)) return;
        if (ProcessTable.CommandLine(pid) is not { } command || !command.Contains(DataDirectory, StringComparison.Ordinal)) return;
        log.LogWarning("Stopping a stale postmaster (pid {Pid}) that still holds {DataDirectory}", pid, DataDirectory);
        if (!await ProcessTable.StopAsync([pid], TimeSpan.FromSeconds(15), ProcessTable.SigInt, ct))
            throw new InvalidOperationException($"A stale postmaster (pid {pid}) holds {DataDirectory} and does not exit.");
    }

    private int? PostmasterPid()
    {
        try
        {
            using var reader = new StreamReader(Path.Combine(DataDirectory, "postmaster.pid"));
            return int.TryParse(reader.ReadLine(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pid) && pid > 0 ? pid : null;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
