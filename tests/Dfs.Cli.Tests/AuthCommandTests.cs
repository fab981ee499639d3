using System.Text;
using System.Text.Json;
using Dfs.Cli.Commands;
using Dfs.Cli.Configuration;
using Dfs.Cli.Output;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Cluster;

namespace Dfs.Cli.Tests;

/// <summary>login, logout, whoami, and which credential every gateway request carries.</summary>
public sealed class AuthCommandTests : IAsyncLifetime
{
    private const string Password = "alice-password";
    private readonly CliHarness _cli = new();
    private readonly FakeAuthGateway _auth = new FakeAuthGateway()
        .WithUser("alice", Password, quota: 5L << 30, used: 1288490189)
        .WithUser("admin", "admin-password", isAdmin: true);
    private FixtureGateway _gateway = null!;

    public async ValueTask InitializeAsync()
    {
        _gateway = await FixtureGateway.StartAsync(_auth.Map);
        _cli.Variables["DFS_GATEWAY"] = _gateway.Url;
    }

    public async ValueTask DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _cli.Dispose();
    }

    private static string Basic(string user, string password) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}"));

    private Task<CliResult> LoginAsync(string user = "alice", string password = Password, params string[] more) =>
        _cli.RunWithInputAsync(password + "\n", ["login", "--user", user, "--password-stdin", .. more]);

    private JsonElement SavedCredentials() => JsonDocument.Parse(File.ReadAllText(_cli.CredentialsFile)).RootElement;

    [Fact]
    public async Task Login_saves_the_token_owner_only_and_later_commands_send_it_as_bearer()
    {
        var login = await LoginAsync(more: ["--ttl-hours", "2"]);

        Assert.True(login.ExitCode == ExitCodes.Ok, login.ToString());
        Assert.StartsWith($"logged in as alice at {_gateway.Url} (token expires ", login.Out);
        var request = _auth.Last("POST", "/api/auth/tokens");
        Assert.Equal(Basic("alice", Password), request.Authorization);
        Assert.Equal(2, request.Json.GetProperty("ttlHours").GetInt32());

        var token = Assert.Single(_auth.Tokens.Keys);
        var saved = SavedCredentials().GetProperty(_gateway.Url);
        Assert.Equal("alice", saved.GetProperty("user").GetString());
        Assert.Equal(token, saved.GetProperty("token").GetString());
        var expires = saved.GetProperty("expiresAt").GetDateTime().ToUniversalTime();
        Assert.InRange(expires, DateTime.UtcNow.AddHours(1.9), DateTime.UtcNow.AddHours(2.1));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(_cli.CredentialsFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(_cli.CredentialsFile)!));
        }
        Assert.DoesNotContain(Password, File.ReadAllText(_cli.CredentialsFile));

        var whoami = await _cli.RunAsync("whoami");
        Assert.True(whoami.ExitCode == ExitCodes.Ok, whoami.ToString());
        Assert.Equal($"Bearer {token}", _auth.Last("GET", "/api/auth/whoami").Authorization);
        Assert.Contains("token saved by `dfs login`, expires", whoami.Out);
    }

    [Fact]
    public async Task Dfs_token_wins_over_dfs_user_and_password_which_win_over_the_saved_token()
    {
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);
        var saved = Assert.Single(_auth.Tokens.Keys);

        _cli.Variables["DFS_USER"] = "admin";
        _cli.Variables["DFS_PASSWORD"] = "admin-password";
        var basic = await _cli.RunAsync("whoami");
        Assert.True(basic.ExitCode == ExitCodes.Ok, basic.ToString());
        Assert.Equal(Basic("admin", "admin-password"), _auth.Last("GET", "/api/auth/whoami").Authorization);
        Assert.Contains("user     admin", basic.Out);
        Assert.Contains("credentials: DFS_USER/DFS_PASSWORD", basic.Out);

        _cli.Variables["DFS_TOKEN"] = "dfs_from_the_environment";
        var bearer = await _cli.RunAsync("whoami");
        Assert.Equal(ExitCodes.Unauthenticated, bearer.ExitCode);
        Assert.Equal("Bearer dfs_from_the_environment", _auth.Last("GET", "/api/auth/whoami").Authorization);
        Assert.Contains($"dfs: {ErrorReporter.NotLoggedIn}: The token is unknown, expired or revoked. (401 Unauthorized); the credentials came from DFS_TOKEN", bearer.Error);

        // A user without a password is only a default for `dfs login`: the saved token is used.
        _cli.Variables.Remove("DFS_TOKEN");
        _cli.Variables.Remove("DFS_PASSWORD");
        var fallback = await _cli.RunAsync("whoami");
        Assert.True(fallback.ExitCode == ExitCodes.Ok, fallback.ToString());
        Assert.Equal($"Bearer {saved}", _auth.Last("GET", "/api/auth/whoami").Authorization);
    }

    [Fact]
    public async Task Without_any_credential_no_header_is_sent_and_a_401_exits_8_saying_to_log_in()
    {
        var result = await _cli.RunAsync("whoami");

        Assert.Equal(ExitCodes.Unauthenticated, result.ExitCode);
        Assert.Null(_auth.Last("GET", "/api/auth/whoami").Authorization);
        Assert.Equal($"dfs: {ErrorReporter.NotLoggedIn}: Authentication is required: send Authorization: Bearer <token> or Basic. (401 Unauthorized)\n",
            result.Error.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task A_token_saved_for_another_gateway_or_an_expired_one_is_not_sent()
    {
        var store = new CredentialStore(Path.GetDirectoryName(_cli.CredentialsFile)!);
        store.Save(new Uri("http://127.0.0.1:1"), new SavedCredential("alice", "dfs_other_gateway", DateTime.UtcNow.AddDays(1)));

        var other = await _cli.RunAsync("whoami");
        Assert.Equal(ExitCodes.Unauthenticated, other.ExitCode);
        Assert.Null(_auth.Last("GET", "/api/auth/whoami").Authorization);

        store.Save(new Uri(_gateway.Url), new SavedCredential("alice", "dfs_expired", DateTime.UtcNow.AddMinutes(-1)));
        var expired = await _cli.RunAsync("whoami");
        Assert.Equal(ExitCodes.Unauthenticated, expired.ExitCode);
        Assert.Null(_auth.Last("GET", "/api/auth/whoami").Authorization);
        Assert.Contains("the token `dfs login` saved for alice expired at", expired.Error);
    }

    [Fact]
    public async Task Wrong_password_exits_8_and_saves_nothing()
    {
        var result = await LoginAsync(password: "not-the-password");

        Assert.Equal(ExitCodes.Unauthenticated, result.ExitCode);
        Assert.Equal("dfs: login failed: wrong user name or password\n", result.Error.ReplaceLineEndings("\n"));
        Assert.Equal("", result.Out);
        Assert.False(File.Exists(_cli.CredentialsFile));
    }

    [Fact]
    public async Task Login_takes_the_user_from_dfs_user_and_without_a_terminal_needs_password_stdin()
    {
        var noUser = await _cli.RunWithInputAsync(Password + "\n", "login", "--password-stdin");
        Assert.Equal(ExitCodes.Usage, noUser.ExitCode);
        Assert.Contains("no user name: pass --user NAME or set DFS_USER", noUser.Error);

        _cli.Variables["DFS_USER"] = "alice";
        var noPassword = await _cli.RunAsync("login");
        Assert.Equal(ExitCodes.Usage, noPassword.ExitCode);
        Assert.Contains("no terminal to ask the password on: pipe it with --password-stdin", noPassword.Error);

        var emptyStdin = await _cli.RunAsync("login", "--password-stdin");
        Assert.Equal(ExitCodes.Usage, emptyStdin.ExitCode);
        Assert.Contains("--password-stdin: expected the password on a line of stdin, got end of input", emptyStdin.Error);

        var ok = await _cli.RunWithInputAsync(Password + "\n", "login", "--password-stdin");
        Assert.True(ok.ExitCode == ExitCodes.Ok, ok.ToString());
        Assert.Equal(Basic("alice", Password), _auth.Last("POST", "/api/auth/tokens").Authorization);
    }

    [Fact]
    public async Task At_a_terminal_login_asks_the_user_name_and_the_password_without_echoing_it()
    {
        _cli.TypedKeys = $"alice\n{Password}\n";

        var result = await _cli.RunAsync("login");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("User name: alice", result.Out);
        Assert.Contains("Password: " + new string('*', Password.Length), result.Out);
        Assert.DoesNotContain(Password, result.Out);
        Assert.Equal(Basic("alice", Password), _auth.Last("POST", "/api/auth/tokens").Authorization);
        Assert.Contains("logged in as alice", result.Out);
    }

    private const string KeptAdminPassword = "kept-Admin-passw0rd";

    /// <summary>What the AppHost leaves in its state folder: cluster.json naming a gateway, and the admin's password file.</summary>
    private string KeepAdminPassword(string? gateway = null, string? adminUser = null, string password = KeptAdminPassword)
    {
        new ClusterFile("local", gateway ?? _gateway.Url, null, [], AdminUser: adminUser).Write(_cli.State.Path);
        var path = AdminPasswordFile.PathIn(_cli.State.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, password + "\n");
        return path;
    }

    [Fact]
    public async Task On_the_clusters_machine_the_admin_logs_in_with_the_password_the_apphost_keeps()
    {
        _auth.WithUser("admin", KeptAdminPassword, isAdmin: true);
        var path = KeepAdminPassword();

        var result = await _cli.RunAsync("login", "--user", "admin");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains($"dfs: using the admin password kept by the AppHost in {path}", result.Error);
        Assert.Equal(Basic("admin", KeptAdminPassword), _auth.Last("POST", "/api/auth/tokens").Authorization);
        Assert.Contains("logged in as admin", result.Out);
        Assert.DoesNotContain(KeptAdminPassword, File.ReadAllText(_cli.CredentialsFile));

        // The gateway found through cluster.json alone (no DFS_GATEWAY) is that cluster's too; the user may come from DFS_USER.
        _cli.Variables.Remove("DFS_GATEWAY");
        _cli.Variables["DFS_USER"] = "admin";
        var viaClusterFile = await _cli.RunAsync("login");
        Assert.True(viaClusterFile.ExitCode == ExitCodes.Ok, viaClusterFile.ToString());
        Assert.Contains("using the admin password kept by the AppHost", viaClusterFile.Error);
    }

    [Fact]
    public async Task At_a_terminal_the_admin_is_asked_only_the_user_name()
    {
        _auth.WithUser("admin", KeptAdminPassword, isAdmin: true);
        KeepAdminPassword();
        // No password among the keys: asking for one would fail the test.
        _cli.TypedKeys = "admin\n";

        var result = await _cli.RunAsync("login");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.DoesNotContain("Password:", result.Out);
        Assert.Equal(Basic("admin", KeptAdminPassword), _auth.Last("POST", "/api/auth/tokens").Authorization);
    }

    [Fact]
    public async Task The_kept_password_is_only_for_that_clusters_admin_at_that_clusters_gateway()
    {
        _auth.WithUser("admin", KeptAdminPassword, isAdmin: true).WithUser("root", KeptAdminPassword, isAdmin: true);
        const string NoTerminal = "no terminal to ask the password on: pipe it with --password-stdin";

        // Another user: as before, a password is needed.
        KeepAdminPassword();
        var otherUser = await _cli.RunAsync("login", "--user", "alice");
        Assert.Equal(ExitCodes.Usage, otherUser.ExitCode);
        Assert.Contains(NoTerminal, otherUser.Error);

        // A password from stdin wins over the file.
        var fromStdin = await LoginAsync(user: "admin", password: "admin-password");
        Assert.True(fromStdin.ExitCode == ExitCodes.Unauthenticated, fromStdin.ToString());
        Assert.DoesNotContain("kept by the AppHost", fromStdin.Error);
        Assert.Equal(Basic("admin", "admin-password"), _auth.Last("POST", "/api/auth/tokens").Authorization);

        // cluster.json names another gateway: the kept password is never sent to this one.
        KeepAdminPassword(gateway: "http://127.0.0.1:1");
        var elsewhere = await _cli.RunAsync("login", "--user", "admin");
        Assert.Equal(ExitCodes.Usage, elsewhere.ExitCode);
        Assert.Contains(NoTerminal, elsewhere.Error);

        // The cluster's admin is someone else.
        KeepAdminPassword(adminUser: "root");
        var notTheAdmin = await _cli.RunAsync("login", "--user", "admin");
        Assert.Equal(ExitCodes.Usage, notTheAdmin.ExitCode);
        var root = await _cli.RunAsync("login", "--user", "root");
        Assert.True(root.ExitCode == ExitCodes.Ok, root.ToString());
        Assert.Equal(Basic("root", KeptAdminPassword), _auth.Last("POST", "/api/auth/tokens").Authorization);

        // No readable file.
        KeepAdminPassword();
        File.Delete(AdminPasswordFile.PathIn(_cli.State.Path));
        var noFile = await _cli.RunAsync("login", "--user", "admin");
        Assert.Equal(ExitCodes.Usage, noFile.ExitCode);
        Assert.Contains(NoTerminal, noFile.Error);
        Assert.DoesNotContain(_auth.Requests, r => r.Authorization == Basic("admin", KeptAdminPassword));
    }

    [Fact]
    public async Task A_kept_password_the_admin_has_since_changed_fails_with_exit_8_and_says_so()
    {
        _auth.WithUser("admin", "changed-since", isAdmin: true);
        var path = KeepAdminPassword();

        var result = await _cli.RunAsync("login", "--user", "admin");

        Assert.Equal(ExitCodes.Unauthenticated, result.ExitCode);
        Assert.Contains($"{AuthCommands.LoginFailed} (the admin's password is no longer the one kept in {path}; pass it with --password-stdin)", result.Error);
        Assert.False(File.Exists(_cli.CredentialsFile));
    }

    [Fact]
    public async Task Ttl_hours_outside_1_to_8760_is_a_usage_error()
    {
        var result = await LoginAsync(more: ["--ttl-hours", "0"]);

        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("--ttl-hours must be between 1 and 8760", result.Error);
        Assert.Empty(_auth.Requests);
    }

    [Fact]
    public async Task Logout_revokes_the_saved_token_and_removes_it()
    {
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);
        var token = Assert.Single(_auth.Tokens.Keys);

        var logout = await _cli.RunAsync("logout");

        Assert.True(logout.ExitCode == ExitCodes.Ok, logout.ToString());
        Assert.Equal("logged out\n", logout.Out.ReplaceLineEndings("\n"));
        Assert.Equal($"Bearer {token}", _auth.Last("DELETE", "/api/auth/tokens/current").Authorization);
        Assert.True(_auth.Tokens[token].Revoked);
        Assert.False(File.Exists(_cli.CredentialsFile));

        var again = await _cli.RunAsync("logout");
        Assert.Equal(ExitCodes.Ok, again.ExitCode);
        Assert.Equal("not logged in\n", again.Out.ReplaceLineEndings("\n"));

        var whoami = await _cli.RunAsync("whoami");
        Assert.Equal(ExitCodes.Unauthenticated, whoami.ExitCode);
        Assert.Null(_auth.Last("GET", "/api/auth/whoami").Authorization);
    }

    [Fact]
    public async Task Logout_of_an_already_revoked_token_still_succeeds_and_keeps_other_gateways()
    {
        var store = new CredentialStore(Path.GetDirectoryName(_cli.CredentialsFile)!);
        store.Save(new Uri("http://127.0.0.1:1"), new SavedCredential("bob", "dfs_other_gateway", DateTime.UtcNow.AddDays(1)));
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);
        _auth.RevokeEveryToken();

        var logout = await _cli.RunAsync("logout");

        Assert.True(logout.ExitCode == ExitCodes.Ok, logout.ToString());
        Assert.Contains("logged out", logout.Out);
        var remaining = SavedCredentials().EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(["http://127.0.0.1:1"], remaining);
    }

    [Fact]
    public async Task Whoami_shows_name_role_home_and_quota_usage()
    {
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);

        var alice = await _cli.RunAsync("whoami");
        Assert.True(alice.ExitCode == ExitCodes.Ok, alice.ToString());
        Assert.Contains("user     alice", alice.Out);
        Assert.Contains("admin    no", alice.Out);
        Assert.Contains("home     /home/alice", alice.Out);
        Assert.Contains("storage  used 1.2 GiB of 5.0 GiB (24%)", alice.Out);

        var json = await _cli.RunAsync("whoami", "--json");
        var me = JsonDocument.Parse(json.Out).RootElement;
        Assert.Equal("alice", me.GetProperty("name").GetString());
        Assert.Equal(5L << 30, me.GetProperty("quotaBytes").GetInt64());

        _cli.Variables["DFS_USER"] = "admin";
        _cli.Variables["DFS_PASSWORD"] = "admin-password";
        var admin = await _cli.RunAsync("whoami");
        Assert.Contains("admin    yes", admin.Out);
        Assert.Contains("storage  used 0 B, no quota", admin.Out);
    }

    [Fact]
    public async Task A_forbidden_path_exits_9_with_the_gateways_detail()
    {
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);

        var stat = await _cli.RunAsync("stat", "/etc");
        Assert.Equal(ExitCodes.Forbidden, stat.ExitCode);
        Assert.Equal("dfs: You may not read /etc. (403 Forbidden)\n", stat.Error.ReplaceLineEndings("\n"));

        var users = await _cli.RunAsync("user", "list");
        Assert.Equal(ExitCodes.Forbidden, users.ExitCode);
        Assert.Contains("Only an admin may do this.", users.Error);
    }

    [Fact]
    public async Task An_exceeded_quota_exits_1_and_shows_used_and_limit()
    {
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);
        File.WriteAllText(_cli.Local["big.bin"], "0123456789");

        var put = await _cli.RunAsync("put", "big.bin", "/home/alice/");

        Assert.Equal(ExitCodes.Error, put.ExitCode);
        Assert.Contains("dfs: quota exceeded: alice has used 1288490189 of a 5368709120-byte quota; /home/alice/big.bin needs 10 bytes", put.Error);
        Assert.DoesNotContain("retrying", put.Error);
    }

    [Fact]
    public async Task The_shell_has_the_new_commands_and_cd_without_argument_goes_home()
    {
        Assert.Equal(ExitCodes.Ok, (await LoginAsync()).ExitCode);

        var result = await _cli.RunWithInputAsync("help\npwd\ncd\npwd\nwhoami\n", "shell");

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        foreach (var command in new[] { "login [options]", "logout", "whoami [options]", "user", "share" })
            Assert.Contains("  " + command, result.Out);
        var afterCd = result.Out[result.Out.IndexOf("dfs:/> cd", StringComparison.Ordinal)..];
        Assert.Contains("dfs:/home/alice> pwd\n/home/alice\n", afterCd.ReplaceLineEndings("\n"));
        Assert.Contains("user     alice", afterCd);
    }

    [Fact]
    public async Task Login_inside_the_shell_takes_effect_for_the_next_commands()
    {
        var result = await _cli.RunWithInputAsync($"whoami\nlogin --user alice --password-stdin\n{Password}\nwhoami\ncd\npwd\nlogout\ncd\npwd\n", "shell");

        Assert.Contains(ErrorReporter.NotLoggedIn, result.Error);
        Assert.Contains("logged in as alice", result.Out);
        Assert.Contains("user     alice", result.Out);
        var lines = result.Out.ReplaceLineEndings("\n");
        Assert.Contains("dfs:/home/alice> pwd\n/home/alice\n", lines);
        Assert.Contains("logged out", lines);
        Assert.EndsWith("dfs:/> pwd\n/\ndfs:/> \n", lines);
    }
}
