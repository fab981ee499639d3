using Dfs.Cli.Tests.Infrastructure;

namespace Dfs.Cli.Tests;

public sealed class UsageTests : IDisposable
{
    private readonly CliHarness _cli = new();

    [Theory]
    [InlineData(new[] { "put" }, "Required argument missing")]
    [InlineData(new[] { "get", "/a", "b", "c" }, "Unrecognized command or argument 'c'")]
    [InlineData(new[] { "put", "a.txt", "--conflict", "sometimes" }, "sometimes")]
    [InlineData(new[] { "put", "a.txt", "--replication", "0" }, "--replication must be at least 1")]
    [InlineData(new[] { "put", "a.txt", "--replication", "three" }, "three")]
    [InlineData(new[] { "nodes", "--bogus" }, "--bogus")]
    [InlineData(new[] { "ls", "a", "b" }, "Unrecognized command or argument 'b'")]
    [InlineData(new[] { "frobnicate" }, "unknown command 'frobnicate'")]
    public async Task Bad_arguments_exit_2_with_a_message_and_a_hint(string[] args, string expected)
    {
        var result = await _cli.RunAsync(args);

        Assert.True(result.ExitCode == ExitCodes.Usage, result.ToString());
        Assert.Contains(expected, result.Error);
        Assert.StartsWith("dfs: ", result.Error);
        Assert.Contains("--help' for usage", result.Error);
    }

    [Fact]
    public async Task Help_documents_every_exit_code()
    {
        var result = await _cli.RunAsync("--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("Exit codes:", result.Out);
        foreach (var (code, meaning) in ExitCodes.All)
            Assert.Contains($"{code,-3} {meaning}", result.Out);
    }

    [Fact]
    public async Task Bare_dfs_shows_help_and_exits_2()
    {
        var result = await _cli.RunAsync();

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("Commands:", result.Out);
    }

    [Fact]
    public async Task Command_help_shows_its_usage()
    {
        var result = await _cli.RunAsync("get", "--help");

        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Contains("get <remote> [<local>] [options]", result.Out);
        Assert.Contains("--force", result.Out);
        Assert.Contains("--gateway <url>", result.Out);
    }

    [Fact]
    public async Task Putting_a_missing_local_file_is_not_found_before_any_gateway_is_needed()
    {
        var result = await _cli.RunAsync("put", "missing.txt");

        Assert.Equal(ExitCodes.NotFound, result.ExitCode);
        Assert.Contains($"local file not found: {_cli.Local["missing.txt"]}", result.Error);
    }

    [Fact]
    public async Task An_invalid_gateway_url_is_a_usage_error()
    {
        _cli.Variables["DFS_GATEWAY"] = "localhost-without-scheme";

        var result = await _cli.RunAsync("nodes");

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("invalid gateway URL 'localhost-without-scheme' (from DFS_GATEWAY)", result.Error);
    }

    public void Dispose() => _cli.Dispose();
}
