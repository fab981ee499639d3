using System.Text;
using Dfs.Cli.Commands;
using Dfs.Cli.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dfs.Cli.Tests;

public sealed class ShellTests : IDisposable
{
    private readonly CliHarness _cli = new();

    [Fact]
    public async Task Help_lists_every_command_and_help_put_shows_its_usage()
    {
        var result = await _cli.RunWithInputAsync("help\nhelp put\nhelp cd\nexit\n", "shell");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("dfs:/> help", result.Out);
        foreach (var command in new[] { "put <local> [<remote>]", "get <remote> [<local>]", "ls [<path>]", "tree [<path>]", "stat <path>",
                     "mkdir <path>", "mv <from> <to>", "rm <path>", "nodes", "cd [<folder>]", "pwd", "history", "help [<command>]", "exit [<code>]", "quit" })
            Assert.Contains("  " + command, result.Out);
        Assert.Contains("Upload a local file.", result.Out);
        Assert.Contains("put <local> [<remote>] [options]", result.Out[result.Out.IndexOf("dfs:/> help put", StringComparison.Ordinal)..]);
        Assert.Contains("--conflict <fail|overwrite|rename>", result.Out);
        Assert.Contains("Usage: cd [<folder>]", result.Out);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task Errors_do_not_stop_the_shell_and_history_lists_previous_commands()
    {
        const string script = """
            pwd
            put "unterminated
            frobnicate now
            help nope
            shell
            # a comment is skipped

            pwd
            history
            """;

        var result = await _cli.RunWithInputAsync(script + "\n", "shell");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("dfs: unterminated double quote", result.Error);
        Assert.Contains("dfs: unknown command 'frobnicate'", result.Error);
        Assert.Contains("type 'help' for the commands", result.Error);
        Assert.Contains("dfs: help: unknown command 'nope'", result.Error);
        Assert.Contains("dfs: already in the shell", result.Error);
        var history = result.Out[result.Out.LastIndexOf("dfs:/> history", StringComparison.Ordinal)..];
        Assert.Contains("1  pwd", history);
        Assert.Contains("2  put \"unterminated", history);
        Assert.Contains("3  frobnicate now", history);
        Assert.Contains("6  pwd", history);
        Assert.DoesNotContain("7  history", history);
        Assert.DoesNotContain("comment", history);
    }

    [Fact]
    public async Task Exit_code_is_the_explicit_one_or_the_last_commands()
    {
        var explicitExit = await _cli.RunWithInputAsync("pwd\nexit 4\npwd\n", "shell");
        var lastFailed = await _cli.RunWithInputAsync("pwd\nfrobnicate\n", "shell");
        var quit = await _cli.RunWithInputAsync("frobnicate\nquit\n", "shell");

        Assert.Equal(4, explicitExit.ExitCode);
        Assert.Single(explicitExit.Out.Split('\n'), line => line.Trim() == "/");
        Assert.Equal(ExitCodes.Usage, lastFailed.ExitCode);
        Assert.Equal(ExitCodes.Ok, quit.ExitCode);
    }

    [Fact]
    public async Task Cd_is_validated_by_stat_and_relative_paths_resolve_against_the_current_folder()
    {
        var content = Encoding.UTF8.GetBytes("hello from /docs/a.txt\n");
        var files = new FakeNamespace().Folder("/docs").Folder("/docs/sub").File("/docs/a.txt", content);
        await using var gateway = await FixtureGateway.StartAsync(files.Map);
        const string script = """
            cd docs
            pwd
            ls
            cd a.txt
            cd missing
            pwd
            get a.txt
            cd sub/..//./sub
            stat ../a.txt
            cd ..
            cd ..
            pwd
            """;

        var result = await _cli.RunWithInputAsync(script + "\n", "--gateway", gateway.Url, "shell");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("dfs:/> cd docs", result.Out);
        Assert.Contains("dfs:/docs> pwd\n/docs\n", result.Out.ReplaceLineEndings("\n"));
        Assert.Contains("dfs:/docs/sub> stat ../a.txt", result.Out);
        Assert.Contains("dfs:/> pwd\n/\n", result.Out.ReplaceLineEndings("\n"));
        Assert.Contains("dfs: cd: /docs/a.txt is not a folder", result.Error);
        Assert.Contains("dfs: '/docs/missing' does not exist. (404 NotFound)", result.Error);
        Assert.Equal(content, await File.ReadAllBytesAsync(_cli.Local["a.txt"], TestContext.Current.CancellationToken));
        Assert.Equal(
            ["stat /docs", "stat /docs", "list /docs", "stat /docs/a.txt", "stat /docs/missing", "get /docs/a.txt", "stat /docs/sub", "stat /docs/a.txt", "stat /docs"],
            files.Requests);
    }

    [Fact]
    public async Task Get_in_the_shell_looks_the_remote_up_before_complaining_about_the_local_file()
    {
        var content = Encoding.UTF8.GetBytes("remote a.txt\n");
        var files = new FakeNamespace().Folder("/docs").File("/docs/a.txt", content);
        await using var gateway = await FixtureGateway.StartAsync(files.Map);
        var ct = TestContext.Current.CancellationToken;
        await File.WriteAllTextAsync(_cli.Local["missing.txt"], "local", ct);
        await File.WriteAllTextAsync(_cli.Local["a.txt"], "local", ct);

        var notFound = await _cli.RunWithInputAsync("cd /docs\nget missing.txt\n", "--gateway", gateway.Url, "shell");
        var exists = await _cli.RunWithInputAsync("cd /docs\nget a.txt\n", "--gateway", gateway.Url, "shell");

        // The remote does not exist: that is what the user hears (and the exit code), not that the local file exists.
        Assert.Equal(ExitCodes.NotFound, notFound.ExitCode);
        Assert.Equal("dfs: '/docs/missing.txt' does not exist. (404 NotFound)\n", notFound.Error.ReplaceLineEndings("\n"));
        // The remote exists: now the local file is in the way.
        Assert.Equal(ExitCodes.Conflict, exists.ExitCode);
        Assert.Contains($"dfs: {_cli.Local["a.txt"]} already exists (use --force to overwrite)", exists.Error);
        Assert.Equal("local", await File.ReadAllTextAsync(_cli.Local["a.txt"], ct));
        Assert.Equal("local", await File.ReadAllTextAsync(_cli.Local["missing.txt"], ct));
        Assert.Equal(["stat /docs", "get /docs/missing.txt", "stat /docs", "get /docs/a.txt"], files.Requests);
    }

    [Fact]
    public async Task Ctrl_c_in_an_interactive_shell_cancels_only_the_running_command()
    {
        var ct = TestContext.Current.CancellationToken;
        var stalled = new TaskCompletionSource();
        await using var gateway = await FixtureGateway.StartAsync(app => app.MapGet("/api/files/{**path}", async (HttpContext context) =>
        {
            context.Response.ContentLength = 1 << 20;
            await context.Response.Body.WriteAsync(new byte[1000]);
            await context.Response.Body.FlushAsync();
            stalled.TrySetResult();
            try { await Task.Delay(Timeout.Infinite, context.RequestAborted); }
            catch (OperationCanceledException) { }
        }));
        _cli.InteractiveInput = true;

        var run = _cli.RunWithInputAsync("get /slow.bin\npwd\n", "--gateway", gateway.Url, "shell");
        await stalled.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        await Task.Delay(100, ct);
        Assert.True(_cli.Interrupts.TryInterrupt());
        var result = await run;

        Assert.Contains("dfs: canceled", result.Error);
        Assert.Contains("dfs:/> /\n", result.Out.ReplaceLineEndings("\n")); // the shell went on to run pwd
        Assert.Equal(ExitCodes.Ok, result.ExitCode);
        Assert.Empty(_cli.Local.Files());
        Assert.False(_cli.Interrupts.TryInterrupt()); // nothing holds Ctrl+C once the shell has left
    }

    [Theory]
    [InlineData("/", "a/b", "/a/b")]
    [InlineData("/docs", "a.txt", "/docs/a.txt")]
    [InlineData("/docs/sub", "../a.txt", "/docs/a.txt")]
    [InlineData("/docs/sub", "/abs/./x", "/abs/x")]
    [InlineData("/docs", "../../..", "/")]
    [InlineData("/docs", ".", "/docs")]
    [InlineData("/docs", "", "/docs")]
    [InlineData("/docs", "x//y/", "/docs/x/y")]
    public void Remote_paths_resolve_against_the_current_folder(string current, string typed, string expected)
    {
        using var session = new CliSession(CliEnvironment.ForWriters(TextWriter.Null, TextWriter.Null)) { CurrentDirectory = current };
        Assert.Equal(expected, session.ResolveRemote(typed));
    }

    public void Dispose() => _cli.Dispose();
}
