using System.Diagnostics;
using System.Text.Json;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.AppHost.Testing;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Tests;

/// <summary>The orchestration machinery with real processes (bash, sleep): ordering, health, restarts, stopping.</summary>
public sealed class ProcessResourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static DfsApplicationBuilder Empty(Action<DfsAppHostOptions>? configure = null) =>
        DfsTestingBuilder.CreateEmpty(o =>
        {
            o.Profile = Profiles.Embedded;
            o.StartTimeout = TimeSpan.FromSeconds(20);
            configure?.Invoke(o);
        }, TestLogging.Factory());

    [Fact]
    public async Task A_resource_starts_only_after_its_dependency_is_healthy()
    {
        var builder = Empty();
        var ready = Path.Combine(builder.StateDirectory, "ready");
        var first = builder.AddExecutable("first", "/bin/bash", "-c", $"sleep 1; touch '{ready}'; exec sleep 1000")
            .WithHealthCheck(_ => Task.FromResult(File.Exists(ready)));
        builder.AddExecutable("second", "/bin/sleep", "1000").WaitFor(first);
        builder.AddExecutable("independent", "/bin/sleep", "1000");
        await using var app = builder.Build();

        await app.StartAsync(Ct);

        var readyAt = File.GetLastWriteTimeUtc(ready);
        var second = app.GetResource("second");
        var independent = app.GetResource("independent");
        Assert.Equal(ResourceState.Running, app.GetResource("first").State);
        Assert.Equal(ResourceState.Running, second.State);
        Assert.True(second.StartedAt!.Value.UtcDateTime >= readyAt.AddMilliseconds(-20), $"second started at {second.StartedAt:O}, first was ready at {readyAt:O}");
        // Independent resources do not wait for each other.
        Assert.True(independent.StartedAt < second.StartedAt);
        Assert.True(Procs.IsAlive(second.Pid!.Value));
    }

    [Fact]
    public async Task A_process_killed_from_outside_is_restarted_with_doubling_backoff()
    {
        var builder = Empty();
        builder.AddExecutable("sleeper", "/bin/sleep", "1000");
        await using var app = builder.Build();
        await app.StartAsync(Ct);

        var pid1 = app.GetResource("sleeper").Pid!.Value;
        var exited = app.WaitForResourceStateAsync("sleeper", ResourceState.Exited, Ct);
        var clock = Stopwatch.StartNew();
        Process.GetProcessById(pid1).Kill();
        var snapshot = await exited;
        Assert.Null(snapshot.Pid);
        await app.WaitForResourceStateAsync("sleeper", ResourceState.Running, Ct);
        var firstDelay = clock.Elapsed;

        var after1 = app.GetResource("sleeper");
        Assert.Equal(1, after1.RestartCount);
        Assert.NotEqual(pid1, after1.Pid);
        Assert.False(Procs.IsAlive(pid1));
        Assert.InRange(firstDelay.TotalSeconds, 0.9, 5);

        exited = app.WaitForResourceStateAsync("sleeper", ResourceState.Exited, Ct);
        clock.Restart();
        Procs.Signal(after1.Pid!.Value, "KILL");
        await exited;
        await app.WaitForResourceStateAsync("sleeper", ResourceState.Running, Ct);

        Assert.Equal(2, app.GetResource("sleeper").RestartCount);
        Assert.InRange(clock.Elapsed.TotalSeconds, 1.9, 8); // 1 s, then 2 s
    }

    [Fact]
    public async Task A_stopped_resource_is_not_restarted_until_started_again()
    {
        var builder = Empty();
        builder.AddExecutable("sleeper", "/bin/sleep", "1000");
        await using var app = builder.Build();
        await app.StartAsync(Ct);
        var pid = app.GetResource("sleeper").Pid!.Value;

        await app.StopResourceAsync("sleeper", Ct);

        Assert.Equal(ResourceState.Stopped, app.GetResource("sleeper").State);
        Assert.False(Procs.IsAlive(pid));
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        var stopped = app.GetResource("sleeper");
        Assert.Equal(ResourceState.Stopped, stopped.State);
        Assert.Null(stopped.Pid);
        Assert.Equal(0, stopped.RestartCount);
        await app.KillResourceAsync("sleeper", Ct);
        Assert.Equal(ResourceState.Stopped, app.GetResource("sleeper").State);

        await app.StartResourceAsync("sleeper", Ct);

        var again = app.GetResource("sleeper");
        Assert.Equal(ResourceState.Running, again.State);
        Assert.True(Procs.IsAlive(again.Pid!.Value));
    }

    [Fact]
    public async Task A_killed_resource_is_exited_and_not_restarted()
    {
        var builder = Empty();
        builder.AddExecutable("sleeper", "/bin/bash", "-c", "trap '' TERM; sleep 1000 & wait");
        await using var app = builder.Build();
        await app.StartAsync(Ct);
        var tree = Procs.WithDescendants(app.GetResource("sleeper").Pid!.Value);

        var clock = Stopwatch.StartNew();
        await app.KillResourceAsync("sleeper", Ct);

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1.5), "SIGKILL needs no grace period");
        await Procs.AssertAllGoneAsync(tree);
        await Task.Delay(TimeSpan.FromSeconds(2), Ct);
        var killed = app.GetResource("sleeper");
        Assert.Equal(ResourceState.Exited, killed.State);
        Assert.Equal(0, killed.RestartCount);
    }

    [Fact]
    public async Task Dispose_ends_the_whole_process_tree()
    {
        var builder = Empty();
        builder.AddExecutable("parent", "/bin/bash", "-c", "sleep 1000 & echo \"child $!\"; wait");
        await using var app = builder.Build();
        await app.StartAsync(Ct);
        var parent = app.GetResource("parent").Pid!.Value;
        await Procs.EventuallyAsync(() => app.GetResource("parent").RecentOutput.Any(l => l.StartsWith("child ", StringComparison.Ordinal)), TimeSpan.FromSeconds(5), "the child's pid");
        var child = int.Parse(app.GetResource("parent").RecentOutput.Single(l => l.StartsWith("child ", StringComparison.Ordinal))[6..]);
        Assert.True(Procs.IsAlive(parent));
        Assert.True(Procs.IsAlive(child));
        var stateDir = app.StateDirectory;

        await app.DisposeAsync();

        await Procs.AssertAllGoneAsync([parent, child], TimeSpan.FromSeconds(1));
        Assert.False(Directory.Exists(stateDir), "the temp state folder is deleted");
    }

    [Fact]
    public async Task A_process_that_ignores_SIGTERM_is_killed_after_the_grace_period()
    {
        var builder = Empty(o => o.StopGracePeriod = TimeSpan.FromSeconds(1));
        // An ignored signal stays ignored across exec: the sleep child ignores SIGTERM too.
        builder.AddExecutable("stubborn", "/bin/bash", "-c", "trap '' TERM; sleep 1000 & echo \"child $!\"; wait");
        await using var app = builder.Build();
        await app.StartAsync(Ct);
        await Procs.EventuallyAsync(() => app.GetResource("stubborn").RecentOutput.Any(l => l.StartsWith("child ", StringComparison.Ordinal)), TimeSpan.FromSeconds(5), "the child's pid");
        var tree = Procs.WithDescendants(app.GetResource("stubborn").Pid!.Value);
        Assert.Equal(2, tree.Count);

        var clock = Stopwatch.StartNew();
        await app.StopResourceAsync("stubborn", Ct);

        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 5);
        await Procs.AssertAllGoneAsync(tree, TimeSpan.FromSeconds(1));
        Assert.Contains(app.GetResource("stubborn").RecentOutput, l => l.Contains("killing its process tree", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_process_that_dies_while_starting_fails_with_its_output()
    {
        var builder = Empty();
        builder.AddExecutable("crasher", "/bin/bash", "-c", "echo boom-marker; echo to-stderr >&2; exit 3");
        await using var app = builder.Build();

        var e = await Assert.ThrowsAsync<ResourceStartException>(() => app.StartAsync(Ct));

        Assert.Equal("crasher", e.ResourceName);
        Assert.Contains("exited with code 3", e.Message);
        Assert.Contains("boom-marker", e.Message);
        Assert.Contains("to-stderr", e.Message);
        var snapshot = app.GetResource("crasher");
        Assert.Equal(ResourceState.Failed, snapshot.State);
        Assert.Equal(3, snapshot.ExitCode);
        var log = await File.ReadAllTextAsync(Path.Combine(app.StateDirectory, "logs", "crasher.log"), Ct);
        Assert.Contains("boom-marker", log);
        Assert.Contains("to-stderr", log);
        await Task.Delay(1500, Ct);
        Assert.Equal(0, app.GetResource("crasher").RestartCount);
    }

    [Fact]
    public async Task A_crash_report_keeps_the_line_that_heads_a_long_stack_trace()
    {
        var builder = Empty();
        builder.AddExecutable("dotnetish", "/bin/bash", "-c",
            "echo starting; echo 'Unhandled exception. System.InvalidOperationException: bad settings'; for i in $(seq 1 40); do echo \"   at Frame$i()\"; done; exit 134")
            // Like a service whose /health never answered: without a check it would count as healthy if a busy machine let it live past the first poll.
            .WithHealthCheck(_ => Task.FromResult(false));
        await using var app = builder.Build();

        var e = await Assert.ThrowsAsync<ResourceStartException>(() => app.StartAsync(Ct));

        Assert.Contains("Unhandled exception. System.InvalidOperationException: bad settings", e.Message);
        Assert.Contains("at Frame40()", e.Message);
        Assert.DoesNotContain("at Frame20()", e.Message);
        Assert.DoesNotContain("starting", e.Message);
    }

    [Fact]
    public async Task A_resource_that_never_becomes_healthy_times_out_with_its_last_lines_and_is_killed()
    {
        var builder = Empty(o => o.StartTimeout = TimeSpan.FromSeconds(2));
        var waiting = builder.AddExecutable("waiting", "/bin/bash", "-c", "for i in $(seq 1 30); do echo line-$i; done; exec sleep 1000")
            .WithHealthCheck(_ => Task.FromResult(false));
        builder.AddExecutable("dependent", "/bin/sleep", "1000").WaitFor(waiting);
        await using var app = builder.Build();

        var clock = Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<ResourceStartException>(() => app.StartAsync(Ct));

        Assert.InRange(clock.Elapsed.TotalSeconds, 1.9, 10);
        Assert.Equal("waiting", e.ResourceName);
        Assert.Contains("did not become healthy within 2 s", e.Message);
        Assert.Contains("line-30", e.Message);
        Assert.Contains("line-11", e.Message);
        Assert.DoesNotContain("line-10\n", e.Message.ReplaceLineEndings("\n") + "\n");
        Assert.Equal(ResourceState.Failed, app.GetResource("waiting").State);
        Assert.Null(app.GetResource("waiting").Pid);
        Assert.Equal(ResourceState.NotStarted, app.GetResource("dependent").State);
    }

    [Fact]
    public async Task Health_is_watched_after_start()
    {
        var healthy = true;
        var builder = Empty();
        builder.AddExecutable("flaky", "/bin/sleep", "1000").WithHealthCheck(_ => Task.FromResult(healthy));
        await using var app = builder.Build();
        await app.StartAsync(Ct);

        var unhealthy = app.WaitForResourceStateAsync("flaky", ResourceState.Unhealthy, Ct);
        healthy = false;
        await unhealthy.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        healthy = true;
        await app.WaitForResourceHealthyAsync("flaky", Ct).WaitAsync(TimeSpan.FromSeconds(5), Ct);
        Assert.Equal(0, app.GetResource("flaky").RestartCount);
    }

    [Fact]
    public async Task Cluster_file_follows_the_resources()
    {
        var builder = Empty();
        builder.AddExecutable("one", "/bin/sleep", "1000");
        builder.AddExecutable("two", "/bin/sleep", "1000");
        await using var app = builder.Build();
        Assert.False(File.Exists(app.ClusterFilePath));

        await app.StartAsync(Ct);

        using (var json = JsonDocument.Parse(await File.ReadAllTextAsync(app.ClusterFilePath, Ct)))
        {
            var root = json.RootElement;
            Assert.Equal("embedded", root.GetProperty("profile").GetString());
            Assert.Equal(app.DashboardUrl!.ToString().TrimEnd('/'), root.GetProperty("dashboard").GetString());
            Assert.Equal(app.DashboardToken, root.GetProperty("dashboardToken").GetString());
            var resources = root.GetProperty("resources").EnumerateArray().ToList();
            Assert.Equal(["one", "two"], resources.Select(r => r.GetProperty("name").GetString()));
            foreach (var r in resources)
            {
                Assert.Equal("executable", r.GetProperty("kind").GetString());
                Assert.Equal("running", r.GetProperty("state").GetString());
                Assert.True(Procs.IsAlive(r.GetProperty("pid").GetInt32()));
                Assert.True(r.TryGetProperty("url", out _));
            }
        }

        var pid = app.GetResource("two").Pid;
        Process.GetProcessById(pid!.Value).Kill();
        await app.WaitForResourceStateAsync("two", ResourceState.Exited, Ct);
        await app.WaitForResourceHealthyAsync("two", Ct);
        await Procs.EventuallyAsync(() => ClusterFile.TryRead(app.StateDirectory)?.Resources.Single(r => r.Name == "two").Pid == app.GetResource("two").Pid,
            TimeSpan.FromSeconds(2), "the new pid in cluster.json");

        await app.StopResourceAsync("one", Ct);
        Assert.Equal("stopped", ClusterFile.TryRead(app.StateDirectory)!.Resources.Single(r => r.Name == "one").State);

        await app.StopAsync(Ct);
        Assert.False(File.Exists(app.ClusterFilePath), "a stopped cluster leaves no cluster.json pointing at nothing");
    }

    [Fact]
    public async Task Resource_environment_overrides_are_applied_last()
    {
        var builder = Empty(o => o.ResourceEnvironment["echo"] = new() { ["GREETING"] = "from-options" });
        builder.AddExecutable("echo", "/bin/bash", "-c", "echo \"greeting=$GREETING\"; exec sleep 1000")
            .WithEnvironment("GREETING", "from-builder");
        await using var app = builder.Build();
        await app.StartAsync(Ct);

        await Procs.EventuallyAsync(() => app.GetResource("echo").RecentOutput.Contains("greeting=from-options"), TimeSpan.FromSeconds(5), "the greeting");
    }

    [Fact]
    public async Task A_cycle_is_refused()
    {
        var builder = Empty();
        await using var app = builder.Build();
        var a = builder.AddExecutable("a", "/bin/sleep", "1000");
        var b = builder.AddExecutable("b", "/bin/sleep", "1000").WaitFor(a);

        Assert.Contains("cycle", Assert.Throws<InvalidOperationException>(() => a.WaitFor(b)).Message);
        Assert.Throws<InvalidOperationException>(() => a.WaitFor(a));
        Assert.Empty(a.Dependencies);
    }
}
