using Dfs.Cli.Configuration;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.AppHost;
using Dfs.Contracts.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dfs.Cli.Tests;

/// <summary>`dfs cluster`: finding the AppHost, its token, and how its answers become output and exit codes.</summary>
public sealed class ClusterCommandTests
{
    private const string Token = "0123456789abcdef0123456789abcdef";

    private static void WriteClusterFile(CliHarness cli, string? dashboard, string? token) =>
        new ClusterFile("local", "http://127.0.0.1:1", dashboard, [], token).Write(cli.State.Path);

    [Fact]
    public async Task Without_a_running_apphost_the_command_exits_6_and_says_how_to_start_one()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("cluster", "status");
        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains(AppHostLocator.NoAppHostMessage, result.Error);
    }

    [Fact]
    public async Task An_apphost_flag_without_a_token_is_a_usage_error()
    {
        using var cli = new CliHarness();
        var result = await cli.RunAsync("cluster", "status", "--apphost", "http://127.0.0.1:1");
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(AppHostLocator.TokenVariable, result.Error);
    }

    [Fact]
    public async Task The_token_from_cluster_json_is_sent_and_a_refused_token_is_explained()
    {
        await using var apphost = await FixtureGateway.StartAsync(app => app.MapGet(AppHostRoutes.Resources, (HttpContext http) =>
            http.Request.Headers.Authorization == $"Bearer {Token}"
                ? Results.Ok(new[] { new AppHostResource("gateway", "gateway", "running", 42, "http://127.0.0.1:5000", DateTimeOffset.UtcNow, 75, 1, null, "unhealthy") })
                : Results.Problem(statusCode: 401, title: "Unauthorized")));
        using var cli = new CliHarness();

        WriteClusterFile(cli, apphost.Url, Token);
        var ok = await cli.RunAsync("cluster", "status");
        Assert.True(ok.ExitCode == ExitCodes.Ok, ok.ToString());
        Assert.Contains("gateway", ok.Out);
        Assert.Contains("1m15s", ok.Out);
        Assert.Contains("unhealthy", ok.Out);
        Assert.Contains("1 of 1 resource(s) running", ok.Out);

        WriteClusterFile(cli, apphost.Url, "a-token-from-an-earlier-run");
        var refused = await cli.RunAsync("cluster", "status");
        Assert.Equal(ExitCodes.BadRequest, refused.ExitCode);
        Assert.Contains("refused the dashboard token", refused.Error);
    }

    [Fact]
    public async Task An_unreachable_dashboard_is_reported_as_the_apphost_not_the_gateway()
    {
        using var cli = new CliHarness();
        WriteClusterFile(cli, $"http://127.0.0.1:{ClosedPort.Get()}", Token);
        var result = await cli.RunAsync("cluster", "add-node");
        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains("cannot reach the AppHost", result.Error);
    }

    [Fact]
    public async Task Remove_node_follows_the_removal_until_it_ends_and_fails_when_it_failed()
    {
        var polls = 0;
        await using var apphost = await FixtureGateway.StartAsync(app =>
        {
            app.MapDelete(AppHostRoutes.Nodes + "/{name}", (string name) =>
                Results.Accepted(value: new NodeRemovalInfo(name, "draining", 5, null)));
            app.MapGet(AppHostRoutes.Nodes + "/{name}/removal", (string name) => ++polls switch
            {
                1 => Results.Ok(new NodeRemovalInfo(name, "draining", 2, null)),
                2 => Results.Ok(new NodeRemovalInfo(name, "stopping", 0, null)),
                _ => Results.Ok(name == "node-1"
                    ? new NodeRemovalInfo(name, "removed", 0, null)
                    : new NodeRemovalInfo(name, "failed", 3, "the drain did not finish")),
            });
        });
        using var cli = new CliHarness();
        WriteClusterFile(cli, apphost.Url, Token);

        var removed = await cli.RunAsync("cluster", "remove-node", "node-1");
        Assert.True(removed.ExitCode == ExitCodes.Ok, removed.ToString());
        Assert.Contains("node-1: draining, 5 chunk(s)", removed.Error);
        Assert.Contains("node-1: draining, 2 chunk(s)", removed.Error);
        Assert.Contains("node-1 drained and removed", removed.Out);

        polls = 0;
        var failed = await cli.RunAsync("cluster", "remove-node", "node-2");
        Assert.Equal(ExitCodes.Error, failed.ExitCode);
        Assert.Contains("removing node-2 failed: the drain did not finish", failed.Error);
    }
}
