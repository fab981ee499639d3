using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text.Json;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;

namespace Dfs.IntegrationTests;

/// <summary>
/// The cluster a developer gets from `dotnet run --project src/Dfs.AppHost` with no other option than where to keep
/// it: the AppHost executable picks its profile itself, and `dfs` finds it through cluster.json, logs in with the
/// generated admin password, and moves a 200 MiB file both ways. Ctrl+C then stops every process it started.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class AppHostExeTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("dfs-exe-");

    public void Dispose() => _work.Delete(recursive: true);

    [Fact]
    public async Task Dfs_put_and_get_of_200_MiB_round_trip_through_the_apphost_exe_which_ctrl_c_stops_entirely()
    {
        var stateDir = Path.Combine(_work.FullName, "state");
        var gatewayPort = FreePort();
        await using var exe = AppHostExe.Start("--state-dir", stateDir, "--profile", "auto", "--gateway-port", gatewayPort.ToString(),
            "--dashboard-port", "0");
        await Procs.EventuallyAsync(() => File.Exists(Path.Combine(stateDir, ClusterFile.FileName)) || exe.HasExited,
            TimeSpan.FromSeconds(180), "cluster.json");
        Assert.False(exe.HasExited, exe.Stdout + exe.Stderr);
        var cluster = ClusterFile.TryRead(stateDir)!;

        // This machine has both servers (the test script installs them), so auto must choose local and say why.
        Assert.Equal("local", cluster.Profile);
        Assert.Matches(@"profile: local \(PostgreSQL found in /\S+, RabbitMQ in /\S+\)", exe.Stdout);
        Assert.Equal($"http://127.0.0.1:{gatewayPort}", cluster.Gateway.TrimEnd('/'));
        Assert.Equal(["gateway", "node-1", "node-2", "node-3", "node-4", "postgres", "rabbitmq", "replicator"],
            cluster.Resources.Select(r => r.Name).Order());

        var source = Path.Combine(_work.FullName, "random-200mib.bin");
        await using (var file = File.Create(source))
            await new TestData.RandomStream(200L * 1024 * 1024, 201).CopyToAsync(file, Ct);
        var expected = await Sha256FileAsync(source);

        var passwordFile = Path.Combine(stateDir, "gateway", "admin-password");
        var login = await RunAsync(await File.ReadAllTextAsync(passwordFile, Ct), stateDir, "login", "--user", "admin", "--password-stdin");
        Assert.True(login.ExitCode == 0, login.ToString());
        var put = await RunAsync(null, stateDir, "put", source, "/exe/random-200mib.bin", "--json");
        Assert.True(put.ExitCode == 0, put.ToString());
        var stored = JsonSerializer.Deserialize<PutFileResult>(put.Stdout, DfsJson.Options)!;
        Assert.Equal(expected, stored.Sha256);
        Assert.Equal(25, stored.ChunkCount); // the default 8 MiB chunks

        var target = Path.Combine(_work.FullName, "back.bin");
        var get = await RunAsync(null, stateDir, "get", "/exe/random-200mib.bin", target);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(expected, await Sha256FileAsync(target));

        var everything = Procs.WithDescendants(exe.Pid).Where(p => p != exe.Pid).ToList();
        Assert.NotEmpty(Procs.Mentioning(stateDir));
        Procs.Signal(exe.Pid, "INT");

        // Each level stops gracefully in turn (Replicator, nodes, gateway, then the servers), each within its grace
        // period before SIGKILL: about 30 s at worst, on a loaded machine.
        Assert.True(await exe.WaitForExitAsync(TimeSpan.FromSeconds(60)), "the AppHost exits within 60 s of Ctrl+C\n" + exe.Stdout[^Math.Min(exe.Stdout.Length, 4000)..]);
        Assert.Equal(0, exe.ExitCode);
        await Procs.AssertAllGoneAsync(everything, TimeSpan.FromSeconds(1));
        Assert.Empty(Procs.Mentioning(stateDir));
    }

    private Task<DfsCli.Run> RunAsync(string? stdin, string stateDir, params string[] args) =>
        DfsCli.RunAsync(_work.FullName, new Dictionary<string, string>
        {
            // No --gateway: dfs reads the AppHost's cluster.json, as it does for a developer.
            ["DFS_STATE_DIR"] = stateDir,
            ["XDG_CONFIG_HOME"] = Path.Combine(_work.FullName, "config"),
        }, stdin, args, Ct);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<string> Sha256FileAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
    }
}
