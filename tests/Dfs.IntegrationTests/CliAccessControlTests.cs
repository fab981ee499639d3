using System.Net;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Security.Cryptography;
using System.Text.Json;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;

namespace Dfs.IntegrationTests;

/// <summary>
/// Access control as users meet it: the real `dfs` executable, one config folder per user (so each keeps its own
/// saved token), against the real gateway and storage nodes; plus what curl-like clients get for the same files.
/// </summary>
[Collection(ClusterCollection.Name)]
[SupportedOSPlatform("linux")]
public sealed class CliAccessControlTests(ClusterFixture cluster) : IDisposable
{
    // Other tests of the collection create alice and bob on the same cluster.
    private const string Alice = "cli-alice";
    private const string Bob = "cli-bob";
    private const string AlicePassword = "alice-cli-password-1";
    private const string BobPassword = "bob-cli-password-1";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("dfs-cli-access-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public async Task Users_of_the_cli_reach_only_their_own_files_and_what_was_shared_with_them()
    {
        var admin = NewUser("admin", AdminPassword.User, DfsClusterOptions.AdminPassword);
        var alice = NewUser("alice");
        var bob = NewUser("bob");

        // The admin creates both users, passwords piped on stdin.
        var added = await admin.RunAsync(AlicePassword + "\n", "user", "add", Alice, "--password-stdin");
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains($"created user {Alice} with home /home/{Alice}, no quota", added.Stdout);
        Assert.Equal(0, (await admin.RunAsync(BobPassword + "\n", "user", "add", Bob, "--password-stdin")).ExitCode);

        // Each logs in and gets a token file of their own, readable by its owner only.
        foreach (var (user, name, password) in new[] { (alice, Alice, AlicePassword), (bob, Bob, BobPassword) })
        {
            var login = await user.RunAsync(password + "\n", "login", "--user", name, "--password-stdin");
            Assert.True(login.ExitCode == 0, login.ToString());
            Assert.Contains($"logged in as {name}", login.Stdout);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(user.CredentialsFile));
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(user.CredentialsFile)!));
            var whoami = await user.RunAsync(null, "whoami", "--json");
            Assert.Equal(name, JsonSerializer.Deserialize<WhoAmI>(whoami.Stdout, DfsJson.Options)!.Name);
        }
        Assert.DoesNotContain(bob.Token, await File.ReadAllTextAsync(alice.CredentialsFile, Ct));

        // Alice stores a file in her home (one chunk: its id is the SHA-256 of the content).
        var data = TestData.Random(300_000, 81);
        var remote = $"/home/{Alice}/report.bin";
        await File.WriteAllBytesAsync(Path.Combine(alice.Work, "report.bin"), data, Ct);
        var put = await alice.RunAsync(null, "put", "report.bin", remote);
        Assert.True(put.ExitCode == 0, put.ToString());

        // Bob is refused by the CLI (exit 9) on read, list and delete; nothing is written locally and nothing deleted.
        var get = await bob.RunAsync(null, "get", remote);
        Assert.Equal(9, get.ExitCode);
        Assert.Contains($"You may not read {remote}.", get.Stderr);
        Assert.Contains("403", get.Stderr);
        Assert.Empty(Directory.GetFileSystemEntries(bob.Work));
        var ls = await bob.RunAsync(null, "ls", $"/home/{Alice}");
        Assert.Equal(9, ls.ExitCode);
        Assert.Contains($"You may not read /home/{Alice}.", ls.Stderr);
        var rm = await bob.RunAsync(null, "rm", remote);
        Assert.Equal(9, rm.ExitCode);
        Assert.Contains($"You may not write {remote}.", rm.Stderr);
        Assert.Equal(TestData.Sha256(data), await alice.DownloadSha256Async(remote, "alice-copy.bin"));

        // A curl-like client: Bob's password is 403 on get, head and stat; no credentials at all is 401.
        using (var bobHttp = new HttpClient { BaseAddress = cluster.App.GatewayUrl })
        using (var anonymous = new HttpClient { BaseAddress = cluster.App.GatewayUrl })
        {
            bobHttp.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic(Bob, BobPassword);
            foreach (var (client, status) in new[] { (bobHttp, HttpStatusCode.Forbidden), (anonymous, HttpStatusCode.Unauthorized) })
            {
                foreach (var (method, uri) in new[] { (HttpMethod.Get, $"/api/files{remote}"), (HttpMethod.Head, $"/api/files{remote}"), (HttpMethod.Get, $"{ApiRoutes.Stat}{remote}") })
                {
                    using var response = await client.SendAsync(new HttpRequestMessage(method, uri), Ct);
                    Assert.True(status == response.StatusCode, $"{method} {uri}: {response.StatusCode}");
                    if (status == HttpStatusCode.Unauthorized)
                        Assert.Equal(["Bearer", "Basic"], response.Headers.WwwAuthenticate.Select(h => h.Scheme));
                    if (method == HttpMethod.Get)
                        Assert.DoesNotContain(Convert.ToHexString(data.AsSpan(0, 16)), Convert.ToHexString(await response.Content.ReadAsByteArrayAsync(Ct)));
                }
            }
        }

        // Bob straight at the node that holds the chunk, with his token or his password: nodes serve only the cluster.
        var stat = await alice.RunAsync(null, "stat", remote, "--json");
        var chunk = JsonSerializer.Deserialize<EntryDetails>(stat.Stdout, DfsJson.Options)!.Chunks.Single();
        Assert.Equal(TestData.Sha256(data), chunk.Id);
        var node = new Uri(chunk.Replicas.Single().NodeUrl.TrimEnd('/') + "/");
        foreach (var credential in new[] { GatewayCredentials.Bearer(bob.Token), GatewayCredentials.Basic(Bob, BobPassword) })
        {
            using var direct = new HttpClient { BaseAddress = node };
            direct.DefaultRequestHeaders.Authorization = credential;
            using var response = await direct.GetAsync($"chunks/{chunk.Id}", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("DfsCluster", response.Headers.WwwAuthenticate.Single().Scheme);
            Assert.Contains(ClusterSignature.HeaderName, (await response.Content.ReadFromJsonAsync<ApiProblem>(Ct))!.Detail);
        }

        // Alice shares her home for reading: Bob's get works and the bytes match; he still cannot write.
        var share = await alice.RunAsync(null, "share", "add", $"/home/{Alice}", Bob);
        Assert.True(share.ExitCode == 0, share.ToString());
        Assert.Contains($"shared /home/{Alice} with {Bob} (read)", share.Stdout);
        Assert.Equal(TestData.Sha256(data), await bob.DownloadSha256Async(remote, "from-alice.bin"));
        await File.WriteAllBytesAsync(Path.Combine(bob.Work, "mine.bin"), [1, 2, 3], Ct);
        var bobPut = await bob.RunAsync(null, "put", "mine.bin", $"/home/{Alice}/mine.bin");
        Assert.Equal(9, bobPut.ExitCode);
        Assert.Contains($"You may not write /home/{Alice}/mine.bin.", bobPut.Stderr);
        Assert.Equal(9, (await bob.RunAsync(null, "rm", remote)).ExitCode);
        var listed = await alice.RunAsync(null, "ls", $"/home/{Alice}", "--json");
        Assert.Equal(["report.bin"], JsonSerializer.Deserialize<List<EntryInfo>>(listed.Stdout, DfsJson.Options)!.Select(e => e.Name));

        // Bob logs out: the token is revoked at the gateway and forgotten locally; whoami is then 401 (exit 8).
        var revoked = bob.Token;
        var logout = await bob.RunAsync(null, "logout");
        Assert.True(logout.ExitCode == 0, logout.ToString());
        Assert.Equal("logged out", logout.Stdout.Trim());
        Assert.False(File.Exists(bob.CredentialsFile));
        var anonymousWhoami = await bob.RunAsync(null, "whoami");
        Assert.Equal(8, anonymousWhoami.ExitCode);
        Assert.Contains("not logged in", anonymousWhoami.Stderr);
        using (var oldToken = new HttpClient { BaseAddress = cluster.App.GatewayUrl })
        {
            oldToken.DefaultRequestHeaders.Authorization = GatewayCredentials.Bearer(revoked);
            Assert.Equal(HttpStatusCode.Unauthorized, (await oldToken.GetAsync(ApiRoutes.WhoAmI, Ct)).StatusCode);
        }

        // Alice sees her usage; with a quota, a put that would go over fails with exit 1 and the numbers, and stores nothing.
        var usage = await alice.RunAsync(null, "whoami");
        Assert.True(usage.ExitCode == 0, usage.ToString());
        Assert.Contains($"user     {Alice}", usage.Stdout);
        Assert.Contains($"home     /home/{Alice}", usage.Stdout);
        Assert.Contains("storage  used 293 KiB, no quota", usage.Stdout);
        var quota = await admin.RunAsync(null, "user", "quota", Alice, "512K");
        Assert.True(quota.ExitCode == 0, quota.ToString());
        Assert.Equal($"{Alice}: used 293 KiB of 512 KiB (57%)", quota.Stdout.Trim());

        await File.WriteAllBytesAsync(Path.Combine(alice.Work, "big.bin"), TestData.Random(400_000, 82), Ct);
        var over = await alice.RunAsync(null, "put", "big.bin", $"/home/{Alice}/big.bin");
        Assert.Equal(1, over.ExitCode);
        Assert.Contains("quota exceeded:", over.Stderr);
        Assert.Contains($"{Alice} has used 300000 of a 524288-byte quota; /home/{Alice}/big.bin needs 400000 bytes. Nothing was committed. (507 ", over.Stderr);
        Assert.Equal(3, (await alice.RunAsync(null, "stat", $"/home/{Alice}/big.bin")).ExitCode);

        var me = JsonSerializer.Deserialize<WhoAmI>((await alice.RunAsync(null, "whoami", "--json")).Stdout, DfsJson.Options)!;
        Assert.Equal((300_000L, 512L * 1024), (me.UsedBytes, me.QuotaBytes));
        Assert.Contains("storage  used 293 KiB of 512 KiB (57%)", (await alice.RunAsync(null, "whoami")).Stdout);
        var users = JsonSerializer.Deserialize<List<UserInfo>>((await admin.RunAsync(null, "user", "list", "--json")).Stdout, DfsJson.Options)!;
        var listedAlice = users.Single(u => u.Name == Alice);
        Assert.Equal((300_000L, 512L * 1024), (listedAlice.UsedBytes, listedAlice.QuotaBytes));
        var table = await admin.RunAsync(null, "user", "list");
        Assert.Contains(table.Stdout.Split('\n'), line => line.Contains(Alice) && line.Contains("used 293 KiB of 512 KiB (57%)"));

        // What fits is still stored.
        await File.WriteAllBytesAsync(Path.Combine(alice.Work, "small.bin"), TestData.Random(1000, 83), Ct);
        Assert.Equal(0, (await alice.RunAsync(null, "put", "small.bin", $"/home/{Alice}/small.bin")).ExitCode);
    }

    private CliUser NewUser(string folder, string? user = null, string? password = null) =>
        new(_root.FullName, cluster.App.GatewayUrl.ToString(), folder, user, password);

    /// <summary>One user of the CLI: a working folder and a config folder of their own ($XDG_CONFIG_HOME).</summary>
    private sealed class CliUser
    {
        private readonly string _gateway;
        private readonly Dictionary<string, string> _environment;

        public CliUser(string root, string gateway, string folder, string? user = null, string? password = null)
        {
            _gateway = gateway;
            var home = Directory.CreateDirectory(Path.Combine(root, folder));
            Work = Directory.CreateDirectory(Path.Combine(home.FullName, "work")).FullName;
            var config = Path.Combine(home.FullName, "config");
            CredentialsFile = Path.Combine(config, "dfs", "credentials.json");
            _environment = new()
            {
                ["XDG_CONFIG_HOME"] = config,
                ["DFS_STATE_DIR"] = Path.Combine(home.FullName, "no-state"),
                // Set empty so nothing from the test's own environment stands in for the saved token.
                ["DFS_TOKEN"] = "",
                ["DFS_USER"] = user ?? "",
                ["DFS_PASSWORD"] = password ?? "",
            };
        }

        public string Work { get; }
        public string CredentialsFile { get; }

        /// <summary>The token `dfs login` saved.</summary>
        public string Token
        {
            get
            {
                using var saved = JsonDocument.Parse(File.ReadAllText(CredentialsFile));
                return saved.RootElement.EnumerateObject().Single().Value.GetProperty("token").GetString()!;
            }
        }

        public Task<DfsCli.Run> RunAsync(string? stdin, params string[] args) =>
            DfsCli.RunAsync(Work, _environment, stdin, ["--gateway", _gateway, .. args], Ct);

        /// <summary>`dfs get` into the working folder, then the SHA-256 of what arrived.</summary>
        public async Task<string> DownloadSha256Async(string remote, string local)
        {
            var get = await RunAsync(null, "get", remote, local);
            Assert.True(get.ExitCode == 0, get.ToString());
            await using var file = File.OpenRead(Path.Combine(Work, local));
            return Convert.ToHexStringLower(await SHA256.HashDataAsync(file, Ct));
        }
    }
}
