using System.Text.Json;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Api;

namespace Dfs.Cli.Tests;

/// <summary>`dfs user …` and `dfs share …`: what they send, and what they print.</summary>
public sealed class UserAndShareCommandTests : IAsyncLifetime
{
    private readonly CliHarness _cli = new();
    private readonly FakeAuthGateway _auth = new FakeAuthGateway()
        .WithUser("admin", "admin-password", isAdmin: true)
        .WithUser("alice", "alice-password", quota: 1L << 30, used: 12L << 20)
        .WithUser("bob", "bob-password");
    private FixtureGateway _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await FixtureGateway.StartAsync(_auth.Map);
        _cli.Variables["DFS_GATEWAY"] = _gateway.Url;
        As("admin", "admin-password");
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _cli.Dispose();
    }

    private void As(string user, string password)
    {
        _cli.Variables["DFS_USER"] = user;
        _cli.Variables["DFS_PASSWORD"] = password;
    }

    [Fact]
    public async Task User_add_without_a_password_prints_the_generated_one_once()
    {
        var result = await _cli.RunAsync("user", "add", "carol", "--quota", "2G");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var body = _auth.Last("POST", "/api/users").Json;
        Assert.Equal("carol", body.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("password").ValueKind);
        Assert.Equal(2L << 30, body.GetProperty("quotaBytes").GetInt64());
        Assert.False(body.GetProperty("isAdmin").GetBoolean());
        Assert.Contains("created user carol with home /home/carol, quota 2.0 GiB", result.Out);
        Assert.Contains($"password: {_auth.GeneratedPassword}", result.Out);
    }

    [Fact]
    public async Task User_add_with_password_stdin_sends_it_and_prints_no_password()
    {
        var result = await _cli.RunWithInputAsync("carols-secret\n", "user", "add", "carol", "--admin", "--password-stdin");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var body = _auth.Last("POST", "/api/users").Json;
        Assert.Equal("carols-secret", body.GetProperty("password").GetString());
        Assert.True(body.GetProperty("isAdmin").GetBoolean());
        Assert.Contains("created admin carol with home /home/carol, no quota", result.Out);
        Assert.DoesNotContain("password", result.Out);
        Assert.DoesNotContain("carols-secret", result.Out);

        var again = await _cli.RunWithInputAsync("carols-secret\n", "user", "add", "carol", "--password-stdin");
        Assert.Equal(ExitCodes.Conflict, again.ExitCode);
        Assert.Contains("A user named 'carol' already exists.", again.Error);
    }

    [Fact]
    public async Task User_list_shows_every_user_with_usage()
    {
        var table = await _cli.RunAsync("user", "list");
        Assert.True(table.ExitCode == ExitCodes.Ok, table.ToString());
        Assert.Contains("used 12 MiB of 1.0 GiB (1%)", table.Out);
        Assert.Contains("/home/bob", table.Out);
        Assert.Contains("3 user(s), 1 admin(s)", table.Out);

        var json = await _cli.RunAsync("user", "list", "--json");
        var names = JsonDocument.Parse(json.Out).RootElement.EnumerateArray().Select(u => u.GetProperty("name").GetString()).Order().ToList();
        Assert.Equal(["admin", "alice", "bob"], names);
    }

    [Theory]
    [InlineData("500M", 500L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("1048576", 1048576L)]
    [InlineData("1.5GiB", 3L << 29)]
    public async Task User_quota_sends_the_size_in_bytes(string size, long bytes)
    {
        var result = await _cli.RunAsync("user", "quota", "bob", size);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var body = _auth.Last("PATCH", "/api/users/bob").Json;
        Assert.Equal(bytes, body.GetProperty("quotaBytes").GetInt64());
        Assert.Contains("bob: used 0 B of ", result.Out);
    }

    [Fact]
    public async Task User_quota_none_clears_it_and_a_bad_size_is_a_usage_error()
    {
        var cleared = await _cli.RunAsync("user", "quota", "alice", "none");
        Assert.True(cleared.ExitCode == ExitCodes.Ok, cleared.ToString());
        Assert.True(_auth.Last("PATCH", "/api/users/alice").Json.GetProperty("clearQuota").GetBoolean());
        Assert.Contains("alice: used 12 MiB, no quota", cleared.Out);

        var unlimited = await _cli.RunWithInputAsync("daves-password\n", "user", "add", "dave", "--quota", "none", "--password-stdin");
        Assert.True(unlimited.ExitCode == ExitCodes.Ok, unlimited.ToString());
        Assert.Equal(JsonValueKind.Null, _auth.Last("POST", "/api/users").Json.GetProperty("quotaBytes").ValueKind);

        var bad = await _cli.RunAsync("user", "quota", "alice", "lots");
        Assert.Equal(ExitCodes.Usage, bad.ExitCode);
        Assert.Contains("'lots' is not a size", bad.Error);
    }

    [Fact]
    public async Task User_admin_and_rm_send_their_requests()
    {
        var promote = await _cli.RunAsync("user", "admin", "bob", "true");
        Assert.True(promote.ExitCode == ExitCodes.Ok, promote.ToString());
        Assert.True(_auth.Last("PATCH", "/api/users/bob").Json.GetProperty("isAdmin").GetBoolean());
        Assert.Contains("bob is an admin", promote.Out);

        var demote = await _cli.RunAsync("user", "admin", "bob", "false");
        Assert.False(_auth.Last("PATCH", "/api/users/bob").Json.GetProperty("isAdmin").GetBoolean());
        Assert.Contains("bob is not an admin", demote.Out);

        var remove = await _cli.RunAsync("user", "rm", "bob");
        Assert.True(remove.ExitCode == ExitCodes.Ok, remove.ToString());
        Assert.Contains("deleted user bob", remove.Out);
        var missing = await _cli.RunAsync("user", "rm", "bob");
        Assert.Equal(ExitCodes.NotFound, missing.ExitCode);
    }

    [Fact]
    public async Task Passwd_changes_the_own_password_with_current_and_new_from_stdin()
    {
        As("alice", "alice-password");

        var wrong = await _cli.RunWithInputAsync("guess\nnew-password\n", "user", "passwd", "--password-stdin");
        Assert.Equal(ExitCodes.BadRequest, wrong.ExitCode);
        Assert.Contains("currentPassword is not your current password.", wrong.Error);

        var result = await _cli.RunWithInputAsync("alice-password\nnew-password\n", "user", "passwd", "--password-stdin");
        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var body = _auth.Last("POST", "/api/auth/password").Json;
        Assert.Equal("alice-password", body.GetProperty("currentPassword").GetString());
        Assert.Equal("new-password", body.GetProperty("newPassword").GetString());
        Assert.Contains("password changed", result.Out);
    }

    [Fact]
    public async Task Passwd_at_a_terminal_asks_twice_and_refuses_a_mismatch()
    {
        As("alice", "alice-password");
        _cli.TypedKeys = "alice-password\nnew-password\nnew-passwort\n";

        var mismatch = await _cli.RunAsync("user", "passwd");
        Assert.Equal(ExitCodes.Usage, mismatch.ExitCode);
        Assert.Contains("the two passwords differ", mismatch.Error);
        Assert.DoesNotContain("new-password", mismatch.Out);
        Assert.DoesNotContain(_auth.Requests, r => r.Path == "/api/auth/password");

        _cli.TypedKeys = "alice-password\nnew-password\nnew-password\n";
        var ok = await _cli.RunAsync("user", "passwd");
        Assert.True(ok.ExitCode == ExitCodes.Ok, ok.ToString());
        Assert.Equal("new-password", _auth.Last("POST", "/api/auth/password").Json.GetProperty("newPassword").GetString());
    }

    [Fact]
    public async Task An_admin_sets_another_users_password_with_patch()
    {
        var result = await _cli.RunWithInputAsync("bobs-new-password\n", "user", "passwd", "bob", "--password-stdin");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Equal("bobs-new-password", _auth.Last("PATCH", "/api/users/bob").Json.GetProperty("password").GetString());
        Assert.Contains("password of bob changed", result.Out);
    }

    [Fact]
    public async Task Share_add_sends_path_user_and_access()
    {
        As("alice", "alice-password");

        var read = await _cli.RunAsync("share", "add", "/home/alice/docs", "bob");
        Assert.True(read.ExitCode == ExitCodes.Ok, read.ToString());
        var body = _auth.Last("POST", "/api/shares").Json;
        Assert.Equal("/home/alice/docs", body.GetProperty("path").GetString());
        Assert.Equal("bob", body.GetProperty("user").GetString());
        Assert.Equal("read", body.GetProperty("access").GetString());
        Assert.Matches(@"^shared /home/alice/docs with bob \(read\), id [0-9a-f-]{36}\s*$", read.Out);

        // In the shell the path is relative to the current folder (here the home, from a bare cd).
        var shell = await _cli.RunWithInputAsync("cd\nshare add photos bob --write\n", "shell");
        Assert.True(shell.ExitCode == ExitCodes.Ok, shell.ToString());
        body = _auth.Last("POST", "/api/shares").Json;
        Assert.Equal("/home/alice/photos", body.GetProperty("path").GetString());
        Assert.Equal("readwrite", body.GetProperty("access").GetString());
        Assert.Contains("(read-write)", shell.Out);
    }

    [Fact]
    public async Task Share_list_shows_given_and_received_and_rm_deletes_by_id()
    {
        var given = new ShareInfo(Guid.NewGuid(), "/home/alice/docs", "alice", "bob", "read", DateTime.UtcNow);
        var received = new ShareInfo(Guid.NewGuid(), "/home/bob/music", "bob", "alice", "readwrite", DateTime.UtcNow);
        _auth.WithShare(given).WithShare(received);
        As("alice", "alice-password");

        var list = await _cli.RunAsync("share", "list");
        Assert.True(list.ExitCode == ExitCodes.Ok, list.ToString());
        var givenAt = list.Out.IndexOf("given:", StringComparison.Ordinal);
        var receivedAt = list.Out.IndexOf("received:", StringComparison.Ordinal);
        Assert.True(givenAt >= 0 && receivedAt > givenAt, list.Out);
        Assert.Contains(given.Id.ToString(), list.Out[givenAt..receivedAt]);
        Assert.Contains(received.Id.ToString(), list.Out[receivedAt..]);
        Assert.Contains("read-write", list.Out);

        var json = JsonDocument.Parse((await _cli.RunAsync("share", "list", "--json")).Out).RootElement;
        Assert.Equal(given.Id, json.GetProperty("given")[0].GetProperty("id").GetGuid());

        var all = await _cli.RunAsync("share", "list", "--all");
        Assert.Equal(ExitCodes.Forbidden, all.ExitCode);

        var rm = await _cli.RunAsync("share", "rm", given.Id.ToString());
        Assert.True(rm.ExitCode == ExitCodes.Ok, rm.ToString());
        Assert.Equal("DELETE", _auth.Last("DELETE", $"/api/shares/{given.Id}").Method);

        var badId = await _cli.RunAsync("share", "rm", "not-a-guid");
        Assert.Equal(ExitCodes.Usage, badId.ExitCode);

        As("admin", "admin-password");
        Assert.Equal("no shares\n", (await _cli.RunAsync("share", "list")).Out.ReplaceLineEndings("\n"));
    }
}
