using System.Text.Json;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Api;

namespace Dfs.Cli.Tests;

/// <summary>`dfs user keys create|list|revoke`: what they send, what they print, and their exit codes.</summary>
public sealed class AccessKeyCommandTests : IAsyncLifetime
{
    private static readonly DateTime Created = new(2025, 3, 4, 5, 6, 7, DateTimeKind.Utc);
    private readonly CliHarness _cli = new();
    private readonly FakeAuthGateway _auth = new FakeAuthGateway()
        .WithUser("admin", "admin-password", isAdmin: true)
        .WithUser("alice", "alice-password")
        .WithUser("bob", "bob-password");
    private FixtureGateway _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await FixtureGateway.StartAsync(_auth.Map);
        _cli.Variables["DFS_GATEWAY"] = _gateway.Url;
        As("alice", "alice-password");
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
    public async Task Create_prints_the_id_and_the_secret_once_with_how_to_use_them()
    {
        var result = await _cli.RunAsync("user", "keys", "create", "--name", "laptop");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var body = _auth.Last("POST", ApiRoutes.AccessKeys).Json;
        Assert.Equal("laptop", body.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, body.GetProperty("user").ValueKind);
        var key = Assert.Single(_auth.AccessKeys);
        Assert.Contains("created access key \"laptop\" for alice", result.Out);
        Assert.Contains($"access key id:     {key.Id}", result.Out);
        Assert.Contains($"secret access key: {_auth.AccessKeySecret}", result.Out);
        Assert.Contains("shown only now and cannot be shown again", result.Out);
        Assert.Contains($"aws configure set aws_access_key_id {key.Id}", result.Out);
        Assert.Contains($"aws configure set aws_secret_access_key {_auth.AccessKeySecret}", result.Out);
        Assert.Equal("", result.Error);

        var json = await _cli.RunAsync("user", "keys", "create", "--json");
        Assert.True(json.ExitCode == ExitCodes.Ok, json.ToString());
        var created = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal(_auth.AccessKeySecret, created.GetProperty("secret").GetString());
        Assert.Equal(("alice", ""), (created.GetProperty("user").GetString(), created.GetProperty("name").GetString()));
        Assert.StartsWith("DFS", created.GetProperty("id").GetString());
    }

    [Fact]
    public async Task Create_for_another_user_is_for_admins()
    {
        var refused = await _cli.RunAsync("user", "keys", "create", "--user", "bob");
        Assert.Equal(ExitCodes.Forbidden, refused.ExitCode);
        Assert.Contains("Only an admin may create another user's access keys.", refused.Error);
        Assert.Empty(_auth.AccessKeys);

        As("admin", "admin-password");
        var made = await _cli.RunAsync("user", "keys", "create", "--user", "bob", "--name", "ci");
        Assert.True(made.ExitCode == ExitCodes.Ok, made.ToString());
        Assert.Equal("bob", _auth.Last("POST", ApiRoutes.AccessKeys).Json.GetProperty("user").GetString());
        Assert.Contains("created access key \"ci\" for bob", made.Out);

        var unknown = await _cli.RunAsync("user", "keys", "create", "--user", "nobody");
        Assert.Equal(ExitCodes.NotFound, unknown.ExitCode);
        Assert.Contains("There is no user 'nobody'.", unknown.Error);
    }

    [Fact]
    public async Task List_shows_the_keys_without_secrets_as_a_table_or_json()
    {
        _auth.WithAccessKey(new AccessKeyInfo("DFSALICEALICEALICEAL", "alice", "laptop", Created, null))
            .WithAccessKey(new AccessKeyInfo("DFSBOBBOBBOBBOBBOBBO", "bob", "ci", Created, Created.AddDays(1)));

        var table = await _cli.RunAsync("user", "keys", "list");
        Assert.True(table.ExitCode == ExitCodes.Ok, table.ToString());
        Assert.Contains("DFSALICEALICEALICEAL", table.Out);
        Assert.Contains("laptop", table.Out);
        Assert.DoesNotContain("DFSBOBBOBBOBBOBBOBBO", table.Out);
        Assert.Contains("1 access key(s)", table.Out);

        var json = JsonDocument.Parse((await _cli.RunAsync("user", "keys", "list", "--json")).Out).RootElement;
        Assert.Equal(["DFSALICEALICEALICEAL"], json.EnumerateArray().Select(k => k.GetProperty("id").GetString()));
        Assert.False(json[0].TryGetProperty("secret", out _));

        var others = await _cli.RunAsync("user", "keys", "list", "--user", "bob");
        Assert.Equal(ExitCodes.Forbidden, others.ExitCode);

        As("admin", "admin-password");
        var all = await _cli.RunAsync("user", "keys", "list");
        Assert.Contains("DFSBOBBOBBOBBOBBOBBO", all.Out);
        Assert.Contains("2 access key(s)", all.Out);
        var bobs = await _cli.RunAsync("user", "keys", "list", "--user", "bob", "--json");
        Assert.Equal("/api/keys", _auth.Requests[^1].Path);
        Assert.Equal(["DFSBOBBOBBOBBOBBOBBO"], JsonDocument.Parse(bobs.Out).RootElement.EnumerateArray().Select(k => k.GetProperty("id").GetString()));
        Assert.Equal("no access keys\n", (await _cli.RunAsync("user", "keys", "list", "--user", "admin")).Out.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Revoke_deletes_by_id_and_someone_elses_or_a_missing_key_is_exit_3()
    {
        _auth.WithAccessKey(new AccessKeyInfo("DFSALICEALICEALICEAL", "alice", "laptop", Created, null))
            .WithAccessKey(new AccessKeyInfo("DFSBOBBOBBOBBOBBOBBO", "bob", "ci", Created, null));

        var revoked = await _cli.RunAsync("user", "keys", "revoke", "DFSALICEALICEALICEAL");
        Assert.True(revoked.ExitCode == ExitCodes.Ok, revoked.ToString());
        Assert.Contains("revoked access key DFSALICEALICEALICEAL", revoked.Out);
        Assert.Equal("DELETE", _auth.Last("DELETE", "/api/keys/DFSALICEALICEALICEAL").Method);

        var again = await _cli.RunAsync("user", "keys", "revoke", "DFSALICEALICEALICEAL");
        Assert.Equal(ExitCodes.NotFound, again.ExitCode);
        Assert.Contains("You have no access key DFSALICEALICEALICEAL.", again.Error);
        Assert.Equal(ExitCodes.NotFound, (await _cli.RunAsync("user", "keys", "revoke", "DFSBOBBOBBOBBOBBOBBO")).ExitCode);

        var missingId = await _cli.RunAsync("user", "keys", "revoke");
        Assert.Equal(ExitCodes.Usage, missingId.ExitCode);
        Assert.Equal(["DFSBOBBOBBOBBOBBOBBO"], _auth.AccessKeys.Select(k => k.Id));
    }

    [Fact]
    public async Task The_commands_work_in_the_shell()
    {
        var shell = await _cli.RunWithInputAsync("user keys create --name 'from the shell'\nuser keys list\n", "shell");

        Assert.True(shell.ExitCode == ExitCodes.Ok, shell.ToString());
        Assert.Equal("from the shell", _auth.Last("POST", ApiRoutes.AccessKeys).Json.GetProperty("name").GetString());
        Assert.Contains($"secret access key: {_auth.AccessKeySecret}", shell.Out);
        Assert.Contains("1 access key(s)", shell.Out);
    }
}
