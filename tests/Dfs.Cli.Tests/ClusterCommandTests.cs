using System.Text.Json;
using Dfs.Cli.Commands;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Cluster;

namespace Dfs.Cli.Tests;

/// <summary>`dfs cluster status`: a read-only view of cluster.json in the state folder; dfs talks to no AppHost.</summary>
public sealed class ClusterCommandTests : IDisposable
{
    private readonly CliHarness _cli = new();

    private string ClusterJson => Path.Combine(_cli.State.Path, ClusterFile.FileName);

    /// <summary>As an Aspire AppHost writes it: Aspire's states, kinds beyond the services, no token, fields dfs does not know.</summary>
    private void WriteAspireClusterFile(string gateway, string? token = null) => File.WriteAllText(ClusterJson, $$"""
        {
          "profile": "local",
          "gateway": "{{gateway}}",
          "dashboard": "https://localhost:17043",
          {{(token is null ? "" : $"\"dashboardToken\": \"{token}\",")}}
          "aspire": { "version": "13.0" },
          "resources": [
            { "name": "postgres", "kind": "postgres", "pid": 101, "url": "tcp://127.0.0.1:5432", "state": "Running" },
            { "name": "redis", "kind": "redis", "pid": null, "url": null, "state": "NotStarted" },
            { "name": "gateway", "kind": "gateway", "pid": 202, "url": "{{gateway}}", "state": "Running", "health": "Healthy" },
            { "name": "node-3", "kind": "storage-node", "pid": 303, "url": "http://127.0.0.1:5003", "state": "Exited", "exitCode": 0 }
          ]
        }
        """);

    [Fact]
    public async Task Without_cluster_json_status_exits_6_and_says_how_to_start_a_cluster()
    {
        var result = await _cli.RunAsync("cluster", "status");

        Assert.True(result.ExitCode == ExitCodes.Unreachable, result.ToString());
        Assert.Contains($"dfs: no cluster: {ClusterJson} does not exist; {ClusterCommand.NoClusterFileHint}", result.Error);
        Assert.Contains("dotnet run --project src/Dfs.AppHost", result.Error);
        Assert.False(File.Exists(ClusterJson));
    }

    [Fact]
    public async Task Status_shows_the_urls_and_each_resource_without_contacting_anything_and_leaves_the_file_alone()
    {
        // Nothing listens at this gateway: status reads the file only.
        var gateway = $"http://127.0.0.1:{ClosedPort.Get()}";
        WriteAspireClusterFile(gateway);
        var before = File.ReadAllBytes(ClusterJson);

        var result = await _cli.RunAsync("cluster", "status");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("profile    local", result.Out);
        Assert.Contains($"gateway    {gateway}", result.Out);
        Assert.Contains("dashboard  https://localhost:17043", result.Out);
        foreach (var header in new[] { "name", "kind", "state", "pid", "url" }) Assert.Contains(header, result.Out);
        Assert.Matches(@"postgres\W+postgres\W+Running\W+101\W+tcp://127\.0\.0\.1:5432", result.Out);
        Assert.Matches(@"redis\W+redis\W+NotStarted\W+-\W+-", result.Out);
        Assert.Matches(@"node-3\W+storage-node\W+Exited\W+303\W+http://127\.0\.0\.1:5003", result.Out);
        Assert.Contains("2 of 4 resource(s) running", result.Out);
        Assert.Equal("", result.Error);
        Assert.Equal(before, File.ReadAllBytes(ClusterJson));
    }

    [Fact]
    public async Task Status_json_has_the_profile_urls_and_resources_but_never_the_dashboard_token()
    {
        WriteAspireClusterFile("http://127.0.0.1:5000", token: "0123456789abcdef-secret");

        var result = await _cli.RunAsync("cluster", "status", "--json");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        using var json = JsonDocument.Parse(result.Out);
        var root = json.RootElement;
        Assert.Equal(ClusterJson, root.GetProperty("file").GetString());
        Assert.Equal("local", root.GetProperty("profile").GetString());
        Assert.Equal("http://127.0.0.1:5000", root.GetProperty("gateway").GetString());
        Assert.Equal("https://localhost:17043", root.GetProperty("dashboard").GetString());
        Assert.Equal(["postgres", "redis", "gateway", "node-3"], root.GetProperty("resources").EnumerateArray().Select(r => r.GetProperty("name").GetString()));
        Assert.Equal("Exited", root.GetProperty("resources")[3].GetProperty("state").GetString());
        Assert.Equal(303, root.GetProperty("resources")[3].GetProperty("pid").GetInt32());
        Assert.DoesNotContain("secret", result.Out);
    }

    [Fact]
    public async Task A_cluster_file_written_by_the_home_made_apphost_still_shows()
    {
        new ClusterFile("embedded", "http://127.0.0.1:5000", null,
            [new ClusterResource("gateway", ResourceKinds.Gateway, 42, "http://127.0.0.1:5000", "running")], "token-of-the-old-dashboard").Write(_cli.State.Path);

        var result = await _cli.RunAsync("cluster", "status");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("dashboard  -", result.Out);
        Assert.Contains("1 of 1 resource(s) running", result.Out);
        Assert.DoesNotContain("token-of-the-old-dashboard", result.Out);
    }

    [Fact]
    public async Task A_damaged_cluster_json_is_an_error_of_its_own_not_a_missing_cluster()
    {
        File.WriteAllText(ClusterJson, "{ not json");

        var result = await _cli.RunAsync("cluster", "status");

        Assert.True(result.ExitCode == ExitCodes.Error, result.ToString());
        Assert.Contains($"dfs: {ClusterJson} is not a cluster file the AppHost writes", result.Error);
    }

    [Theory]
    [InlineData(new[] { "cluster", "add-node" }, "add storage nodes from the Aspire dashboard")]
    [InlineData(new[] { "cluster", "remove-node", "node-3" }, "use `dfs nodes remove NAME`")]
    [InlineData(new[] { "cluster", "restart", "replicator" }, "restart resources from the Aspire dashboard")]
    public async Task The_retired_apphost_commands_say_where_their_job_went(string[] args, string instead)
    {
        WriteAspireClusterFile("http://127.0.0.1:5000");

        var result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains($"`dfs cluster {args[1]}` is gone (dfs talks only to the gateway): {instead}", result.Error);
    }

    [Fact]
    public async Task Cluster_help_lists_status_only()
    {
        var result = await _cli.RunAsync("cluster", "--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("status", result.Out);
        foreach (var retired in new[] { "add-node", "remove-node", "restart", "--apphost" }) Assert.DoesNotContain(retired, result.Out);
    }

    public void Dispose() => _cli.Dispose();
}
