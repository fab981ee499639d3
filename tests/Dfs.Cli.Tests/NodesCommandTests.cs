using Dfs.Cli.Tests.Infrastructure;

namespace Dfs.Cli.Tests;

/// <summary>`dfs nodes drain|undrain|remove`: the gateway's drain and removal API, progress, exit codes and Ctrl+C.</summary>
public sealed class NodesCommandTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();
    private readonly FakeNodes _nodes = new();
    private FixtureGateway _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await FixtureGateway.StartAsync(_nodes.Map);
        _cli.Variables["DFS_GATEWAY"] = _gateway.Url;
        _cli.PollInterval = TimeSpan.FromMilliseconds(10);
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _cli.Dispose();
    }

    [Fact]
    public async Task Drain_starts_the_drain_and_with_wait_shows_progress_on_stderr_until_drained()
    {
        var node = _nodes.Add("node-1", 12, 5, 5, 5, 2, 2, 0);

        var started = await _cli.RunAsync("nodes", "drain", "node-1");
        Assert.True(started.ExitCode == ExitCodes.Ok, started.ToString());
        Assert.Contains("node-1 is draining: 5 of its 12 chunk(s) still without enough copies on other nodes", started.Out);
        Assert.True(node.Draining);
        Assert.Equal(["POST drain node-1"], _nodes.Requests);

        var waited = await _cli.RunAsync("nodes", "drain", "node-1", "--wait");
        Assert.True(waited.ExitCode == ExitCodes.Ok, waited.ToString());
        // One line per change of the count, not one per poll.
        Assert.Equal(
            ["dfs: node-1: draining, 5 of its 12 chunk(s) still without enough copies on other nodes",
             "dfs: node-1: draining, 2 of its 12 chunk(s) still without enough copies on other nodes"],
            Lines(waited.Error));
        Assert.Contains("node-1 is drained: each of its 12 chunk(s) has enough copies on other nodes; `dfs nodes remove node-1` removes it", waited.Out);
        // Polled by id, so a node that takes the name meanwhile is not followed instead.
        Assert.All(_nodes.Requests.Skip(2), r => Assert.Equal($"GET drain {node.Id}", r));
    }

    [Fact]
    public async Task Ctrl_c_while_waiting_for_a_drain_stops_waiting_and_leaves_the_drain_running()
    {
        var node = _nodes.Add("node-1", 3, 3);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = _cli.RunCancellableAsync("", cancel.Token, "nodes", "drain", "node-1", "--wait");
        await _nodes.Polling.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        var result = await run;

        Assert.True(result.ExitCode == ExitCodes.Canceled, result.ToString());
        Assert.Contains("canceled: stopped waiting; node-1 goes on draining (`dfs nodes undrain node-1` cancels the drain)", result.Error);
        Assert.True(node.Draining);
        Assert.DoesNotContain(_nodes.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Undrain_cancels_the_drain()
    {
        var node = _nodes.Add("node-1", 3, 3);
        node.Draining = true;

        var result = await _cli.RunAsync("nodes", "undrain", "node-1");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("node-1 is not draining: it takes new chunks again", result.Out);
        Assert.False(node.Draining);
        Assert.Equal(["DELETE drain node-1"], _nodes.Requests);
    }

    [Fact]
    public async Task Remove_drains_waits_with_progress_then_removes_the_node_through_the_gateway()
    {
        var node = _nodes.Add("node-2", 7, 7, 4, 4, 1, 0);

        var result = await _cli.RunAsync("nodes", "remove", "node-2");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Equal(
            ["dfs: node-2: draining, 4 of its 7 chunk(s) still without enough copies on other nodes",
             "dfs: node-2: draining, 1 of its 7 chunk(s) still without enough copies on other nodes"],
            Lines(result.Error));
        Assert.Contains("node-2 drained and removed; no chunk lost a copy. Its process stops by itself at its next heartbeat", result.Out);
        Assert.True(node.Removed);
        var requests = _nodes.Requests;
        Assert.Equal("GET drain node-2", requests[0]);
        Assert.Equal($"POST drain {node.Id}", requests[1]);
        Assert.Equal($"DELETE node force=false {node.Id}", requests[^1]);
        Assert.All(requests.Skip(2).SkipLast(1), r => Assert.Equal($"GET drain {node.Id}", r));

        var list = await _cli.RunAsync("nodes");
        Assert.Contains("no storage nodes registered", list.Out);
    }

    [Fact]
    public async Task Remove_waits_again_when_the_gateway_refuses_a_node_that_is_no_longer_drained()
    {
        var node = _nodes.Add("node-1", 2, 0);
        _nodes.RemovalConflicts = 1;

        var result = await _cli.RunAsync("nodes", "remove", "node-1");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("dfs: node-1: not removable yet (Node node-1 cannot be removed: it is still draining", result.Error);
        Assert.Equal(2, _nodes.Requests.Count(r => r.StartsWith("DELETE node force=false", StringComparison.Ordinal)));
        Assert.True(node.Removed);
    }

    [Fact]
    public async Task Remove_with_force_removes_at_once_without_draining_and_says_what_lost_a_copy()
    {
        var node = _nodes.Add("node-1", 9, 3);

        var result = await _cli.RunAsync("nodes", "remove", "node-1", "--force");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("node-1 removed without draining: 3 of its 9 chunk(s) now lack copies", result.Out);
        Assert.Equal(["GET drain node-1", $"DELETE node force=true {node.Id}"], _nodes.Requests);
        Assert.True(node.Removed);
        Assert.False(node.Draining);
    }

    [Fact]
    public async Task Ctrl_c_while_removing_cancels_the_drain_the_command_started()
    {
        var node = _nodes.Add("node-1", 4, 4);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = _cli.RunCancellableAsync("", cancel.Token, "nodes", "remove", "node-1");
        await _nodes.Polling.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        var result = await run;

        Assert.True(result.ExitCode == ExitCodes.Canceled, result.ToString());
        Assert.Contains("canceled: node-1 was not removed; its drain was cancelled and it takes new chunks again", result.Error);
        Assert.False(node.Draining);
        Assert.False(node.Removed);
        Assert.Equal($"DELETE drain {node.Id}", _nodes.Requests[^1]);
        Assert.DoesNotContain(_nodes.Requests, r => r.StartsWith("DELETE node", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Ctrl_c_while_removing_leaves_a_drain_that_was_running_before()
    {
        var node = _nodes.Add("node-1", 4, 4);
        node.Draining = true;
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var run = _cli.RunCancellableAsync("", cancel.Token, "nodes", "remove", "node-1");
        await _nodes.Polling.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await cancel.CancelAsync();
        var result = await run;

        Assert.True(result.ExitCode == ExitCodes.Canceled, result.ToString());
        Assert.Contains("node-1 was not removed and goes on draining, as it did before", result.Error);
        Assert.True(node.Draining);
        Assert.DoesNotContain(_nodes.Requests, r => r.StartsWith("DELETE", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_drain_cancelled_by_someone_else_ends_the_removal_with_exit_4()
    {
        var node = _nodes.Add("node-1", 4, 4);
        node.CancelDrainAfterReads = 3;

        var result = await _cli.RunAsync("nodes", "remove", "node-1");

        Assert.True(result.ExitCode == ExitCodes.Conflict, result.ToString());
        Assert.Contains("node-1 is no longer draining: its drain was cancelled", result.Error);
        Assert.False(node.Removed);
    }

    [Theory]
    [InlineData("drain")]
    [InlineData("undrain")]
    [InlineData("remove")]
    public async Task Unknown_shared_and_forbidden_nodes_map_to_the_exit_code_table(string subcommand)
    {
        _nodes.Add("twin", 1, 0);
        _nodes.Add("twin", 1, 0);

        var unknown = await _cli.RunAsync("nodes", subcommand, "nosuch");
        Assert.True(unknown.ExitCode == ExitCodes.NotFound, unknown.ToString());
        Assert.Contains("No storage node has the id or name 'nosuch'. (404 NotFound)", unknown.Error);

        var shared = await _cli.RunAsync("nodes", subcommand, "twin");
        Assert.True(shared.ExitCode == ExitCodes.Conflict, shared.ToString());
        Assert.Contains("use the node's id", shared.Error);

        _nodes.NotAdmin = true;
        var single = _nodes.Add("solo", 1, 0);
        var forbidden = await _cli.RunAsync("nodes", subcommand, "solo");
        Assert.True(forbidden.ExitCode == ExitCodes.Forbidden, forbidden.ToString());
        Assert.Contains("Only an admin may do this.", forbidden.Error);
        Assert.False(single.Draining || single.Removed);
    }

    [Fact]
    public async Task The_list_marks_draining_nodes_and_the_subcommands_need_a_name()
    {
        _nodes.Add("node-1", 1, 0).Draining = true;
        _nodes.Add("node-2", 1, 0);

        var list = await _cli.RunAsync("nodes");
        Assert.True(list.ExitCode == ExitCodes.Ok, list.ToString());
        Assert.Contains("live, draining", list.Out);
        Assert.Contains("2 of 2 node(s) live, 1 draining", list.Out);

        var missing = await _cli.RunAsync("nodes", "remove");
        Assert.Equal(ExitCodes.Usage, missing.ExitCode);
        Assert.Contains("Required argument missing", missing.Error);
        Assert.Empty(_nodes.Requests);
    }

    private static string[] Lines(string text) => text.ReplaceLineEndings("\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
