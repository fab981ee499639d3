using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;
using Dfs.IntegrationTests.Support;

namespace Dfs.IntegrationTests;

/// <summary>
/// The cluster a developer gets from the built AppHost with no other option than where to keep it: the executable picks
/// its profile itself, runs the Aspire dashboard, prints how to sign in, and `dfs` (through the launcher it writes) logs
/// in with the kept admin password and moves a 200 MiB file both ways. Ctrl+C then stops every process it started (a
/// killed AppHost leaving DCP to remove them is Dfs.AppHost.Tests' ExeLifecycleTests).
/// </summary>
[Trait("Category", "Cluster")]
public sealed class AppHostExeTests : IDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(4);
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _work = Directory.CreateTempSubdirectory("dfs-exe-");
    // Not under _work: the postgres user must reach it (a temp subdirectory is owner-only).
    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose()
    {
        _work.Delete(recursive: true);
        Directory.Delete(_state, recursive: true);
    }

    [Fact]
    public async Task Dfs_put_and_get_of_200_MiB_round_trip_through_the_apphost_exe_which_ctrl_c_stops_entirely()
    {
        await using var exe = AppHostExe.Start(["--state-dir", _state, "--profile", "auto", "--dashboard-port", "0"]);
        var signIn = await exe.WaitForLineAsync("Sign in:", StartLimit);
        Assert.True(signIn is not null, "no sign-in line:\n" + exe.Tail);

        // This machine has the three servers (the test script installs them), so auto must choose local and say why.
        Assert.Matches(@"(?m)^profile: local \(PostgreSQL found in /\S+, RabbitMQ in /\S+, Redis in /\S+\)$", exe.Stdout);
        var gatewayLine = (await exe.WaitForLineAsync("Dfs gateway:", TimeSpan.Zero))!;
        var dashboard = System.Text.RegularExpressions.Regex.Match(exe.Stdout, @"Login to the dashboard at (http://127\.0\.0\.1:\d+)/login\?t=\w+");
        Assert.True(dashboard.Success, "the Aspire dashboard did not start:\n" + exe.Tail);

        // cluster.json names the gateway the AppHost printed, the dashboard, and every resource of the run. It is written
        // once the gateway is healthy, before the nodes that wait for it run, and kept current: four nodes run (the
        // default), two spares wait to be added, everything else runs.
        string[] names = ["cache", "gateway", "messaging", "messaging-epmd", "metadata", "node-1", "node-2", "node-3", "node-4", "node-5", "node-6", "replicator"];
        ClusterFile cluster;
        var deadline = DateTime.UtcNow + StartLimit;
        while (true)
        {
            cluster = ClusterFile.Read(_state)!;
            var complete = cluster.Resources.Select(r => r.Name).Order(StringComparer.Ordinal).SequenceEqual(names)
                && cluster.Resources.All(r => IsSpare(r) ? r.State == ResourceStates.NotStarted && r.Pid is null : r.State == ResourceStates.Running && r.Pid is not null);
            if (complete) break;
            Assert.True(DateTime.UtcNow < deadline, "cluster.json never listed the whole running cluster:\n" + JsonSerializer.Serialize(cluster.Resources));
            await Task.Delay(500, Ct);
        }
        Assert.Equal("local", cluster.Profile);
        Assert.StartsWith($"Dfs gateway:  {cluster.Gateway}   ", gatewayLine);
        Assert.Matches(@"^http://127\.0\.0\.1:\d+$", cluster.Gateway);
        Assert.Equal(dashboard.Groups[1].Value, cluster.Dashboard);
        using (var probe = new HttpClient())
            Assert.True((await probe.GetAsync(cluster.Dashboard, Ct)).IsSuccessStatusCode);

        // The printed command, run as printed, with no password given: dfs finds the one the AppHost keeps.
        var command = signIn["Sign in:".Length..].Trim();
        Assert.Equal($"{Path.Combine(_state, "bin", "dfs")} login --user admin", command);
        var login = await ShellAsync(command);
        Assert.True(login.ExitCode == 0, login.ToString());
        Assert.Contains($"logged in as admin at {cluster.Gateway}", login.Stdout);
        Assert.Contains("using the admin password kept by the AppHost", login.Stderr);

        // The sign-in line comes once the gateway is healthy; the nodes, which wait for it, register a few seconds later.
        deadline = DateTime.UtcNow + StartLimit;
        while (true)
        {
            var nodes = await LauncherAsync("nodes", "--json");
            Assert.True(nodes.ExitCode == 0, nodes.ToString());
            if (JsonSerializer.Deserialize<List<NodeInfo>>(nodes.Stdout, DfsJson.Options)!.Count(n => n.State == NodeStates.Live) == 4) break;
            Assert.True(DateTime.UtcNow < deadline, "the four nodes never became live:\n" + nodes.Stdout);
            await Task.Delay(500, Ct);
        }

        var source = Path.Combine(_work.FullName, "random-200mib.bin");
        await using (var file = File.Create(source))
            await new TestData.RandomStream(200L * 1024 * 1024, 201).CopyToAsync(file, Ct);
        var expected = await Sha256FileAsync(source);

        var put = await LauncherAsync("put", source, "/exe/random-200mib.bin", "--json");
        Assert.True(put.ExitCode == 0, put.ToString());
        var stored = JsonSerializer.Deserialize<PutFileResult>(put.Stdout, DfsJson.Options)!;
        Assert.Equal(expected, stored.Sha256);
        Assert.Equal(25, stored.ChunkCount); // the default 8 MiB chunks

        var target = Path.Combine(_work.FullName, "back.bin");
        var get = await LauncherAsync("get", "/exe/random-200mib.bin", target);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(expected, await Sha256FileAsync(target));

        // Ctrl+C: each level stops gracefully (services, then the servers cleanly), then DCP goes.
        var everything = Procs.OfAppHost(exe.Pid).Where(p => p != exe.Pid).ToList();
        Assert.True(everything.Count >= 15, "the cluster's processes:\n" + string.Join("\n", everything.Select(Procs.Describe)));
        Assert.NotEmpty(Procs.Mentioning(_state));
        var stopping = Stopwatch.StartNew();
        Assert.True(ProcessTable.Signal(exe.Pid, ProcessTable.SigInt));
        Assert.True(await exe.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), "the AppHost did not exit within 60 s of Ctrl+C:\n" + exe.Tail);
        Assert.True(exe.ExitCode == 0, $"exit {exe.ExitCode}:\n{exe.Tail}");
        TestContext.Current.TestOutputHelper?.WriteLine($"Ctrl+C: the AppHost exited after {stopping.Elapsed.TotalSeconds:0.0} s");

        // Nothing of the cluster is left (DCP itself goes a few seconds after the AppHost), nor its cluster.json, and
        // PostgreSQL was shut down, not killed: it needs no crash recovery at the next start.
        await Procs.AssertAllGoneAsync(everything, TimeSpan.FromSeconds(30));
        TestContext.Current.TestOutputHelper?.WriteLine($"Ctrl+C: every process gone after {stopping.Elapsed.TotalSeconds:0.0} s");
        Assert.Empty(Procs.Mentioning(_state));
        Assert.False(File.Exists(ClusterFile.PathIn(_state)), "cluster.json outlived the cluster");
        var control = await DfsCli.RunProgramAsync(Path.Combine(ProfileDetector.FindPostgresBin()!, "pg_controldata"), [Path.Combine(_state, "metadata", "data")],
            _work.FullName, new Dictionary<string, string>(), null, Ct);
        Assert.True(control.ExitCode == 0, control.ToString());
        Assert.Matches(@"(?m)^Database cluster state:\s+shut down$", control.Stdout);
    }

    private static bool IsSpare(ClusterResource resource) => resource.Name is "node-5" or "node-6";

    /// <summary>A command line as a user pastes it into a shell, with a config folder of its own and nothing of the test's environment.</summary>
    private Task<DfsCli.Run> ShellAsync(string commandLine) => DfsCli.RunProgramAsync("/bin/sh", ["-c", commandLine], _work.FullName, CliEnvironment(), "", Ct);

    /// <summary>STATE/bin/dfs, the launcher the AppHost wrote: no --gateway, no DFS_STATE_DIR given (it sets that itself).</summary>
    private Task<DfsCli.Run> LauncherAsync(params string[] args) =>
        DfsCli.RunProgramAsync(Path.Combine(_state, "bin", "dfs"), args, _work.FullName, CliEnvironment(), null, Ct);

    private Dictionary<string, string> CliEnvironment() => new()
    {
        ["XDG_CONFIG_HOME"] = Path.Combine(_work.FullName, "config"),
        // Set empty so that nothing of the test's own environment stands in for what the launcher and login provide.
        ["DFS_STATE_DIR"] = "",
        ["DFS_GATEWAY"] = "",
        ["DFS_TOKEN"] = "",
        ["DFS_USER"] = "",
        ["DFS_PASSWORD"] = "",
    };

    private static async Task<string> Sha256FileAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
    }
}
