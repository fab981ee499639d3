using System.Globalization;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Settings;
using Dfs.AppHost.Tests.Support;
using Dfs.Testing;
using Npgsql;

namespace Dfs.AppHost.Tests.Servers;

/// <summary>
/// PostgreSQL through the AppHost's hosting integration (AddPostgresServer) in an application of its own, against the
/// server installed on this machine. (Its Stop command in a running cluster, with the gateway's connections open, is in
/// the cluster tests: that is where a plain SIGTERM would not do.)
/// </summary>
public sealed class PostgresServerTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        Directory.Delete(_state, recursive: true);
    }

    private static string Bin => ProfileDetector.FindPostgresBin() ?? throw new InvalidOperationException("PostgreSQL is not installed.");

    private string DataDirectory => Path.Combine(_state, "metadata", "data");

    private Task<DfsServer> StartAsync() => DfsServer.StartAsync((builder, state) => builder.AddPostgresServer("metadata", Bin, state), Ct, _state);

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }

    /// <summary>What pg_control says: "shut down" after a clean stop, "in production" while running or after a crash.</summary>
    public static async Task<string> ClusterStateAsync(string dataDirectory)
    {
        var (code, output) = await Procs.RunAsync(Path.Combine(Bin, "pg_controldata"), ["-D", dataDirectory], Ct);
        Assert.True(code == 0, output);
        return output.Split('\n').Single(l => l.StartsWith("Database cluster state:", StringComparison.Ordinal))["Database cluster state:".Length..].Trim();
    }

    [Fact]
    public async Task Initdb_runs_once_the_dfs_database_answers_on_loopback_only_and_data_outlives_the_app()
    {
        long systemId;
        int postmaster;
        await using (var first = await StartAsync())
        {
            var port = ((PostgresServerResource)first.Resource).PrimaryEndpoint.Port;
            Assert.Equal($"Host=127.0.0.1;Port={port};Username=postgres;Database=dfs", first.ConnectionString);
            Assert.Equal("dfs", await ScalarAsync(first.ConnectionString, "SELECT current_database()"));
            systemId = (long)(await ScalarAsync(first.ConnectionString, "SELECT system_identifier FROM pg_control_system()"))!;
            await ScalarAsync(first.ConnectionString, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)");
            NpgsqlConnection.ClearAllPools();
            Assert.True(File.Exists(Path.Combine(DataDirectory, "PG_VERSION")));

            postmaster = ServerSupport.Pid(first);
            Assert.Equal("postgres", Procs.Name(postmaster));
            if (Environment.IsPrivilegedProcess)
                Assert.Equal("postgres", (await Procs.RunAsync("stat", ["-c", "%U", $"/proc/{postmaster}"], Ct)).Output.Trim());
            var listening = Procs.WithDescendants(postmaster).SelectMany(Procs.ListeningOn).ToList();
            Assert.Equal([$"127.0.0.1:{port}"], listening);
            Assert.Equal("in production", await ClusterStateAsync(DataDirectory));
        }

        // Stopped the way the AppHost stops it: a fast shutdown, nothing to recover at the next start.
        Assert.Equal("shut down", await ClusterStateAsync(DataDirectory));
        await Procs.AssertAllGoneAsync([postmaster]);
        Assert.Empty(Procs.Mentioning(DataDirectory));

        await using var second = await StartAsync();

        // The same cluster (initdb would have made a new one), with its data.
        Assert.Equal(systemId, (long)(await ScalarAsync(second.ConnectionString, "SELECT system_identifier FROM pg_control_system()"))!);
        Assert.Equal(42, await ScalarAsync(second.ConnectionString, "SELECT x FROM kept"));
        NpgsqlConnection.ClearAllPools();
    }

    [Fact]
    public async Task A_stale_postmaster_holding_the_data_folder_is_stopped_at_the_next_start()
    {
        await (await StartAsync()).DisposeAsync();
        Assert.Equal("shut down", await ClusterStateAsync(DataDirectory));

        // What an AppHost whose DCP died too would leave behind: a postmaster nobody supervises, holding the folder.
        using var stale = new ServerSupport.Foreign(Path.Combine(Bin, "postgres"),
            ["-D", DataDirectory, "-p", ServerSupport.FreePort().ToString(CultureInfo.InvariantCulture), "-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="],
            user: "postgres");
        await Procs.EventuallyAsync(() => stale.HasExited || File.Exists(Path.Combine(DataDirectory, "postmaster.pid")), TimeSpan.FromSeconds(15), "the stale postmaster", Ct);
        Assert.False(stale.HasExited, stale.Output);
        await Procs.EventuallyAsync(() => stale.Output.Contains("ready to accept connections", StringComparison.Ordinal), TimeSpan.FromSeconds(15), "the stale postmaster to be ready", Ct);

        await using var server = await StartAsync();

        await Procs.AssertAllGoneAsync([stale.Pid], TimeSpan.FromSeconds(5));
        Assert.NotEqual(stale.Pid, ServerSupport.Pid(server));
        Assert.Equal("dfs", await ScalarAsync(server.ConnectionString, "SELECT current_database()"));
        NpgsqlConnection.ClearAllPools();
        // Stopped with SIGINT, a fast shutdown: its own last words say so.
        Assert.Contains("received fast shutdown request", stale.Output);
    }

    [Fact]
    public async Task As_root_a_mode_700_state_folder_is_opened_for_the_postgres_user_to_pass()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "only root runs PostgreSQL as another user");
        var state = Directory.CreateTempSubdirectory("dfs-pg-700-").FullName; // mode 700
        try
        {
            await using (var server = await DfsServer.StartAsync((builder, s) => builder.AddPostgresServer("metadata", Bin, s), Ct, state))
            {
                var data = new DirectoryInfo(Path.Combine(state, "metadata", "data"));
                Assert.Null(data.LinkTarget);
                Assert.True(File.Exists(Path.Combine(data.FullName, "PG_VERSION")));
                Assert.Equal("postgres", (await Procs.RunAsync("stat", ["-c", "%U", data.FullName], Ct)).Output.Trim());
                // Search permission only (o+x), no read: the postgres user can pass, not list.
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute, File.GetUnixFileMode(state));
                Assert.Equal("dfs", await ScalarAsync(server.ConnectionString, "SELECT current_database()"));
                NpgsqlConnection.ClearAllPools();
            }
        }
        finally
        {
            Directory.Delete(state, recursive: true);
        }
    }

    [Fact]
    public async Task As_root_a_state_folder_the_postgres_user_cannot_reach_gets_its_cluster_relocated_and_found_again()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "only root runs PostgreSQL as another user");
        // Like ~/.local/share/dfs under /root (mode 700): a parent folder, not ours to open, blocks the way.
        var blocked = Directory.CreateTempSubdirectory("dfs-pg-blocked-").FullName;
        var state = Path.Combine(blocked, "state");
        Directory.CreateDirectory(state);
        string? relocated = null;
        try
        {
            var link = new DirectoryInfo(Path.Combine(state, "metadata", "data"));
            await using (var server = await DfsServer.StartAsync((builder, s) => builder.AddPostgresServer("metadata", Bin, s), Ct, state))
            {
                relocated = link.LinkTarget;
                Assert.NotNull(relocated);
                Assert.StartsWith(Path.Combine(ServerAccount.Postgres.RelocationRoot, ""), relocated);
                Assert.True(File.Exists(Path.Combine(relocated, "PG_VERSION")));
                await ScalarAsync(server.ConnectionString, "CREATE TABLE relocated (x int)");
                NpgsqlConnection.ClearAllPools();
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(blocked));
            }
            // The next start follows the link to the same cluster.
            await using (var again = await DfsServer.StartAsync((builder, s) => builder.AddPostgresServer("metadata", Bin, s), Ct, state))
            {
                Assert.Equal(relocated, link.LinkTarget);
                Assert.Equal(0L, await ScalarAsync(again.ConnectionString, "SELECT count(*) FROM relocated"));
                NpgsqlConnection.ClearAllPools();
            }
        }
        finally
        {
            Directory.Delete(blocked, recursive: true);
            if (relocated is not null && Directory.Exists(relocated)) Directory.Delete(relocated, recursive: true);
        }
    }
}
