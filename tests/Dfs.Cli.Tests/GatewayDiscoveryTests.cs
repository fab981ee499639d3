using Dfs.Cli.Configuration;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Cluster;
using Microsoft.AspNetCore.Builder;

namespace Dfs.Cli.Tests;

public sealed class GatewayDiscoveryTests : IDisposable
{
    private readonly TempFolder _state = new();
    private readonly Dictionary<string, string?> _variables = new();

    public GatewayDiscoveryTests() => _variables["DFS_STATE_DIR"] = _state.Path;

    private string? Lookup(string name) => _variables.GetValueOrDefault(name);

    private void WriteClusterFile(string gateway) =>
        new ClusterFile("local", gateway, null, [new ClusterResource("gateway", ResourceKinds.Gateway, 1, gateway, "running")]).Write(_state.Path);

    [Fact]
    public void Flag_wins_over_environment_and_cluster_file()
    {
        _variables["DFS_GATEWAY"] = "http://127.0.0.1:2002";
        WriteClusterFile("http://127.0.0.1:3003");

        var endpoint = GatewayLocator.Locate("http://127.0.0.1:1001", Lookup);

        Assert.Equal(new Uri("http://127.0.0.1:1001"), endpoint.Url);
        Assert.Equal("--gateway", endpoint.Source);
    }

    [Fact]
    public void Environment_wins_over_cluster_file()
    {
        _variables["DFS_GATEWAY"] = "http://127.0.0.1:2002";
        WriteClusterFile("http://127.0.0.1:3003");

        var endpoint = GatewayLocator.Locate(null, Lookup);

        Assert.Equal(new Uri("http://127.0.0.1:2002"), endpoint.Url);
        Assert.Equal("DFS_GATEWAY", endpoint.Source);
    }

    [Fact]
    public void Cluster_file_of_the_state_folder_is_the_fallback()
    {
        WriteClusterFile("http://127.0.0.1:3003");

        var endpoint = GatewayLocator.Locate(null, Lookup);

        Assert.Equal(new Uri("http://127.0.0.1:3003"), endpoint.Url);
        Assert.Equal(Path.Combine(_state.Path, "cluster.json"), endpoint.Source);
    }

    [Fact]
    public void Nothing_configured_is_exit_code_6_with_instructions()
    {
        var error = Assert.Throws<CliException>(() => GatewayLocator.Locate(null, Lookup));

        Assert.Equal(ExitCodes.Unreachable, error.ExitCode);
        Assert.Equal(GatewayLocator.NoGatewayMessage, error.Message);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("ftp://127.0.0.1:21")]
    [InlineData("127.0.0.1:8080/relative")]
    public void Invalid_url_is_a_usage_error(string url)
    {
        var error = Assert.Throws<CliException>(() => GatewayLocator.Locate(url, Lookup));
        Assert.Equal(ExitCodes.Usage, error.ExitCode);
        Assert.Contains(url, error.Message);
    }

    [Fact]
    public async Task A_command_without_any_gateway_exits_6_and_says_how_to_get_one()
    {
        using var cli = new CliHarness();

        var result = await cli.RunAsync("ls", "/");

        Assert.Equal(ExitCodes.Unreachable, result.ExitCode);
        Assert.Contains($"dfs: {GatewayLocator.NoGatewayMessage}", result.Error);
        Assert.Equal("", result.Out);
    }

    [Fact]
    public async Task Commands_reach_the_gateway_named_in_cluster_json_and_the_flag_overrides_it()
    {
        await using var gateway = await FixtureGateway.StartAsync(app => app.MapGet("/api/nodes", () => Array.Empty<object>()));
        using var cli = new CliHarness();
        new ClusterFile("local", gateway.Url, null, []).Write(cli.State.Path);

        var viaClusterFile = await cli.RunAsync("nodes", "--json");
        var viaFlag = await cli.RunAsync("nodes", "--gateway", $"http://127.0.0.1:{ClosedPort.Get()}");

        Assert.True(viaClusterFile.ExitCode == ExitCodes.Ok, viaClusterFile.ToString());
        Assert.Equal("[]", viaClusterFile.Out.Trim());
        Assert.Equal(ExitCodes.Unreachable, viaFlag.ExitCode);
        Assert.Contains("(from --gateway)", viaFlag.Error);
    }

    public void Dispose() => _state.Dispose();
}
