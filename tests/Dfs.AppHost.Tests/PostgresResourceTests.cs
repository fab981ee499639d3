using System.Diagnostics;
using System.Globalization;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using System.Net;
using System.Net.Sockets;
using Dfs.AppHost.Processes;
using Dfs.AppHost.Resources;
using Dfs.AppHost.Testing;
using Dfs.AppHost.Tests.Support;
using Npgsql;

namespace Dfs.AppHost.Tests;

/// <summary>The PostgreSQL resource against the real server installed on this machine.</summary>
public sealed class PostgresResourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DfsApplicationBuilder PostgresOnly(string? stateDir = null)
    {
        var builder = DfsTestingBuilder.CreateEmpty(o =>
        {
            o.Profile = Profiles.Local;
            if (stateDir is not null) o.StateDir = stateDir;
        }, TestLogging.Factory());
        builder.AddPostgres();
        return builder;
    }

    private static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(Ct);
    }

    [Fact]
    public async Task Starts_with_the_dfs_database_and_keeps_data_and_port_across_restarts()
    {
        await using var app = PostgresOnly().Build();
        await app.StartAsync(Ct);

        var cs = app.GetConnectionString(ResourceNames.MetadataConnection)!;
        var port = app.GetEndpoint("postgres").Port;
        Assert.Equal($"Host=127.0.0.1;Port={port};Username=postgres;Database=dfs;Pooling=true;Maximum Pool Size=50", cs);
        Assert.Equal("dfs", await ScalarAsync(cs, "SELECT current_database()"));
        await ScalarAsync(cs, "CREATE TABLE kept (x int); INSERT INTO kept VALUES (42)");
        NpgsqlConnection.ClearAllPools();

        var dataDir = Path.Combine(app.StateDirectory, "postgres", "data");
        Assert.True(File.Exists(Path.Combine(dataDir, "PG_VERSION")));
        var postmaster = app.GetResource("postgres").Pid!.Value;
        var tree = Procs.WithDescendants(postmaster);
        Assert.True(tree.Count > 1, "a running postmaster has background workers");

        await app.StopResourceAsync("postgres", Ct);

        Assert.Equal(ResourceState.Stopped, app.GetResource("postgres").State);
        await Procs.AssertAllGoneAsync(tree);
        Assert.Empty(ProcessTable.FindByCommandLine(dataDir));
        // The exit can be seen a moment before the pipe's last lines are read.
        await Procs.EventuallyAsync(() => app.GetResource("postgres").RecentOutput.Any(l => l.Contains("database system is shut down", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(5), "postgres's shutdown line in its output");

        await app.StartResourceAsync("postgres", Ct);

        Assert.Equal(port, app.GetEndpoint("postgres").Port);
        Assert.Equal(42, await ScalarAsync(cs, "SELECT x FROM kept"));
        NpgsqlConnection.ClearAllPools();
        tree = Procs.WithDescendants(app.GetResource("postgres").Pid!.Value);

        await app.DisposeAsync();

        await Procs.AssertAllGoneAsync(tree);
        Assert.Empty(ProcessTable.FindByCommandLine(dataDir));
    }

    [Fact]
    public async Task A_second_run_on_the_same_state_folder_reuses_the_cluster_and_its_port()
    {
        var stateDir = Path.Combine(Path.GetTempPath(), "dfs-pg-reuse-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            int port;
            await using (var first = PostgresOnly(stateDir).Build())
            {
                await first.StartAsync(Ct);
                port = first.GetEndpoint("postgres").Port;
                await ScalarAsync(first.GetConnectionString("metadata")!, "CREATE TABLE kept (x int)");
                NpgsqlConnection.ClearAllPools();
            }
            Assert.Equal(port.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(stateDir, "postgres", "port")));

            await using var second = PostgresOnly(stateDir).Build();
            await second.StartAsync(Ct);

            Assert.Equal(port, second.GetEndpoint("postgres").Port);
            Assert.Equal(0L, await ScalarAsync(second.GetConnectionString("metadata")!, "SELECT count(*) FROM kept"));
            NpgsqlConnection.ClearAllPools();
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task A_stale_postmaster_holding_the_data_folder_is_stopped_first()
    {
        await using var app = PostgresOnly().Build();
        await app.StartAsync(Ct);
        await app.StopResourceAsync("postgres", Ct);
        var dataDir = Path.Combine(app.StateDirectory, "postgres", "data");
        var socketDir = Path.Combine(app.StateDirectory, "postgres", "sock");

        // What an AppHost killed with SIGKILL leaves behind: a postmaster nobody supervises.
        using var stale = StartPostmaster(dataDir, socketDir, FreePort());
        await Procs.EventuallyAsync(() => File.Exists(Path.Combine(dataDir, "postmaster.pid")), TimeSpan.FromSeconds(10), "the stale postmaster");
        Assert.False(stale.HasExited);

        await app.StartResourceAsync("postgres", Ct);

        Assert.True(stale.WaitForExit(TimeSpan.FromSeconds(5)), "the stale postmaster was stopped");
        Assert.Equal(ResourceState.Running, app.GetResource("postgres").State);
        Assert.Equal("dfs", await ScalarAsync(app.GetConnectionString("metadata")!, "SELECT current_database()"));
        NpgsqlConnection.ClearAllPools();
    }

    [Fact]
    public async Task As_root_a_state_folder_with_mode_700_is_opened_for_the_postgres_user_to_pass()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "only root runs PostgreSQL as another user");
        var stateDir = Directory.CreateTempSubdirectory("dfs-pg-700-").FullName; // mode 700
        try
        {
            await using (var app = PostgresOnly(stateDir).Build())
            {
                await app.StartAsync(Ct);
                var data = new DirectoryInfo(Path.Combine(stateDir, "postgres", "data"));
                Assert.Null(data.LinkTarget);
                Assert.True(File.Exists(Path.Combine(data.FullName, "PG_VERSION")));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute,
                    File.GetUnixFileMode(stateDir));
            }
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
    }

    [Fact]
    public async Task As_root_a_state_folder_the_postgres_user_cannot_reach_gets_its_cluster_relocated()
    {
        Assert.SkipUnless(Environment.IsPrivilegedProcess, "only root runs PostgreSQL as another user");
        // Like ~/.local/share/dfs under /root (mode 700): a parent folder, not ours to open, blocks the way.
        var blocked = Directory.CreateTempSubdirectory("dfs-pg-blocked-").FullName;
        var stateDir = Path.Combine(blocked, "state");
        try
        {
            var builder = PostgresOnly(stateDir);
            builder.DeleteStateDirectoryOnDispose = true;
            string relocated;
            await using (var app = builder.Build())
            {
                await app.StartAsync(Ct);
                relocated = ((PostgresResource)app.Resources.Single()).RelocatedDirectory!;
                Assert.NotNull(relocated);
                Assert.False(relocated.StartsWith(blocked, StringComparison.Ordinal));
                Assert.Equal(Path.Combine(relocated, "data"), new DirectoryInfo(Path.Combine(stateDir, "postgres", "data")).LinkTarget);
                var cs = app.GetConnectionString("metadata")!;
                await ScalarAsync(cs, "CREATE TABLE relocated (x int)");
                NpgsqlConnection.ClearAllPools();
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(blocked));
            }
            Assert.False(Directory.Exists(stateDir));
            Assert.False(Directory.Exists(relocated), "a temporary state folder takes its relocated cluster along");
        }
        finally
        {
            Directory.Delete(blocked, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static Process StartPostmaster(string dataDir, string socketDir, int port)
    {
        var bin = ProfileDetector.FindPostgresBin()!;
        string[] args = ["-D", dataDir, "-p", port.ToString(CultureInfo.InvariantCulture), "-k", socketDir, "-c", "listen_addresses=127.0.0.1"];
        var psi = Environment.IsPrivilegedProcess
            ? new ProcessStartInfo("/usr/bin/setpriv", ["--reuid=postgres", "--regid=postgres", "--init-groups", "--", Path.Combine(bin, "postgres"), .. args])
            : new ProcessStartInfo(Path.Combine(bin, "postgres"), args);
        psi.UseShellExecute = false;
        psi.RedirectStandardError = true;
        psi.RedirectStandardOutput = true;
        var process = Process.Start(psi)!;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }
}
