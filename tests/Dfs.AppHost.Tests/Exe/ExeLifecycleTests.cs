using System.Text.RegularExpressions;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Tests.Servers;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Cluster;
using Dfs.Testing;

namespace Dfs.AppHost.Tests.Exe;

/// <summary>
/// The built AppHost as a developer runs it (local profile, the dashboard on), and how it ends: SIGTERM stops
/// everything cleanly; SIGKILL leaves DCP to remove every child.
/// </summary>
[Trait("Category", "Cluster")]
public sealed partial class ExeLifecycleTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose()
    {
        try { Directory.Delete(_state, recursive: true); }
        catch (IOException) { }
    }

    [GeneratedRegex(@"Dfs gateway:\s+(http://127\.0\.0\.1:\d+)")]
    private static partial Regex GatewayLine();

    private static readonly string[] Resources = ["metadata", "messaging-epmd", "messaging", "cache", "gateway", "node-1", "node-2", "replicator"];

    /// <summary>The exe with a running cluster, and every process it consists of: DCP, the dashboard, the wrappers, services and servers.</summary>
    private async Task<(AppHostExe Exe, IReadOnlyList<int> Processes, ClusterFile Cluster)> StartAsync(params string[] more)
    {
        var exe = AppHostExe.Start(["--state-dir", _state, "--profile", "local", "--nodes", "2", "--spare-nodes", "0", "--dashboard-port", "0",
            "--Parameters:admin-password=lifecycle-admin-pw", .. more]);
        try
        {
            await exe.WaitForOutputAsync(GatewayLine(), TimeSpan.FromMinutes(4), Ct);
            await Procs.EventuallyAsync(() => ClusterFile.TryRead(_state)?.Resources is { } r && r.Count == Resources.Length && r.All(x => ResourceStates.IsRunning(x.State)),
                TimeSpan.FromMinutes(3), "every resource running in cluster.json", Ct);
            var cluster = ClusterFile.TryRead(_state)!;
            Assert.Equal(Resources, cluster.Resources.Select(r => r.Name));
            Assert.NotNull(cluster.Dashboard);
            var dcp = Procs.DcpOf(exe.Pid);
            Assert.NotEmpty(dcp);
            var processes = Procs.WithDescendants([exe.Pid, .. dcp, .. cluster.Resources.Select(r => r.Pid!.Value)]).Where(p => p != exe.Pid).ToList();
            // What must go: every resource's process, PostgreSQL's workers, the broker's VM, and the dashboard.
            Assert.All(cluster.Resources, r => Assert.Contains(r.Pid!.Value, processes));
            Assert.Contains(processes, p => Procs.Name(p) == "beam.smp");
            Assert.Contains(processes, p => Procs.CommandLine(p)?.Contains("Aspire.Dashboard", StringComparison.Ordinal) == true);
            return (exe, processes, cluster);
        }
        catch
        {
            await exe.DisposeAsync();
            throw;
        }
    }

    /// <summary>Anything still running that belongs to this state folder or to this broker's node.</summary>
    private IReadOnlyList<string> Leftovers() =>
        Procs.Mentioning(_state, "dfs-" + ServerAccount.Hash(Path.Combine(_state, "messaging")) + "@localhost");

    [Fact]
    public async Task With_no_restart_a_crash_stays_down_and_SIGTERM_stops_everything_cleanly()
    {
        var epmdDaemons = Procs.Named("epmd").Where(p => Procs.CommandLine(p)?.Contains("-daemon", StringComparison.Ordinal) == true).ToHashSet();
        var (exe, processes, cluster) = await StartAsync("--no-restart");
        await using (exe)
        {
            // Everything listens on loopback only, the dashboard and DCP included.
            var listening = processes.SelectMany(p => Procs.ListeningOn(p).Select(a => $"{p} {Procs.Name(p)} {a}")).ToList();
            Assert.Contains(listening, l => l.EndsWith(":" + new Uri(cluster.Dashboard!).Port, StringComparison.Ordinal));
            Assert.All(listening, l => Assert.True(Procs.IsLoopback(l[(l.LastIndexOf(' ') + 1)..]), l));

            // --no-restart: a crashed node stays down.
            var node = cluster.Resources.Single(r => r.Name == "node-2").Pid!.Value;
            Assert.True(Procs.TrySignal(node, Procs.SigKill));
            await Procs.EventuallyAsync(() => ClusterFile.TryRead(_state)?.Resources.Single(r => r.Name == "node-2") is { Pid: null }, TimeSpan.FromSeconds(30),
                "cluster.json to show node-2 down", Ct);
            await Task.Delay(TimeSpan.FromSeconds(3), Ct);
            Assert.False(ResourceStates.IsRunning(ClusterFile.TryRead(_state)!.Resources.Single(r => r.Name == "node-2").State));

            Assert.True(Procs.TrySignal(exe.Pid, Procs.SigTerm));

            Assert.True(await exe.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), "the AppHost exits within 60 s of SIGTERM");
            Assert.True(exe.ExitCode == 0, $"exit code {exe.ExitCode}\n{exe.Stderr}");
            await Procs.AssertAllGoneAsync(processes, TimeSpan.FromSeconds(30));
            Assert.Empty(Leftovers());
            Assert.False(File.Exists(ClusterFile.PathIn(_state)), "cluster.json is removed on stop");
            // PostgreSQL had its fast shutdown: nothing to recover at the next start.
            Assert.Equal("shut down", await PostgresServerTests.ClusterStateAsync(Path.Combine(_state, "metadata", "data")));
            Assert.Empty(Procs.Named("epmd").Where(p => Procs.CommandLine(p)?.Contains("-daemon", StringComparison.Ordinal) == true).Except(epmdDaemons));
        }
    }

    [Fact]
    public async Task After_SIGKILL_of_the_AppHost_DCP_removes_every_child()
    {
        var (exe, processes, _) = await StartAsync();
        await using (exe)
        {
            Assert.True(Procs.TrySignal(exe.Pid, Procs.SigKill));
            Assert.True(await exe.WaitForExitAsync(TimeSpan.FromSeconds(10), Ct));

            // DCP watches the AppHost's pid: once it is gone, DCP stops everything it runs, and itself.
            await Procs.AssertAllGoneAsync(processes, TimeSpan.FromSeconds(60));
            Assert.Empty(Leftovers());
        }
    }
}
