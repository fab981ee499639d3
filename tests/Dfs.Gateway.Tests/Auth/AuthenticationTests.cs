using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Data;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Dfs.Gateway.Tests.Auth.AuthKit;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>Who may talk to the gateway at all: credentials, tokens, the first admin.</summary>
public sealed class AuthenticationTests
{
    private static readonly string[] OpenPrefixes = ["/health", "/alive", "/openapi/", "/internal/"];

    /// <summary>
    /// The console answers a browser without a session with its sign-in page rather than a 401: its routes are
    /// checked by ConsoleSignInTests.Without_a_session_every_console_route_leads_to_the_sign_in_page_and_does_nothing.
    /// </summary>
    private const string ConsolePrefix = "/console";

    /// <summary>Every route the gateway maps, read from its endpoint data source, so a route added later is covered too.</summary>
    private static List<(string Method, string Url, string Pattern)> PublicRoutes(GatewayFactory factory)
    {
        var routes = new List<(string, string, string)>();
        foreach (var endpoint in factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>())
        {
            var pattern = "/" + endpoint.RoutePattern.RawText!.Trim('/'); // a group's "" route reads "/api/users/"
            if (OpenPrefixes.Any(p => pattern == p.TrimEnd('/') || pattern.StartsWith(p, StringComparison.Ordinal))) continue;
            if (pattern == ConsolePrefix || pattern.StartsWith(ConsolePrefix + "/", StringComparison.Ordinal)) continue;
            var url = Regex.Replace(pattern, @"\{([^}]*)\}", m =>
                m.Groups[1].Value.StartsWith("**", StringComparison.Ordinal) ? "home/someone/file.txt"
                : m.Groups[1].Value.Contains(":guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString()
                : "someone");
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"];
            routes.AddRange(methods.Select(m => (m, url, pattern)));
        }
        return routes;
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Every_public_route_is_401_without_or_with_wrong_credentials(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        await CreateUserAsync(factory, "alice");
        var alice = await As(factory, "alice").CreateTokenAsync(ct: Ct);

        var routes = PublicRoutes(factory);
        // The enumeration sees the API (a broken one would make this test pass vacuously).
        foreach (var expected in new[] { "/api/files/{**path}", "/api/list/{**path}", "/api/move", "/api/users", "/api/shares", "/api/auth/whoami", "/api/nodes", "/" })
            Assert.True(routes.Any(r => r.Pattern == expected), $"{expected} is not among {string.Join(", ", routes.Select(r => r.Pattern).Distinct())}");
        Assert.True(routes.Count >= 30, $"only {routes.Count} routes found");

        AuthenticationHeaderValue?[] credentials =
        [
            null,
            GatewayCredentials.Basic(GatewayFactory.AdminUser, "wrong-password"),
            GatewayCredentials.Basic("nobody", "wrong-password"),
            GatewayCredentials.Basic("alice", PasswordOf("alice") + "x"),
            GatewayCredentials.Bearer("dfs_" + new string('A', 43)),
            GatewayCredentials.Bearer(alice.Token + "x"),
            new AuthenticationHeaderValue("Basic", "not base64!"),
            new AuthenticationHeaderValue("Digest", "username=\"admin\""),
        ];
        foreach (var credential in credentials)
        {
            using var http = factory.CreateClient(credential);
            foreach (var (method, url, pattern) in routes)
            {
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                if (method is "PUT" or "POST" or "PATCH") request.Content = JsonContent.Create(new { });
                using var response = await http.SendAsync(request, Ct);
                var because = $"{method} {url} ({pattern}) with {credential?.Scheme ?? "no credential"}";
                Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{because}: {(int)response.StatusCode}");
                var challenge = response.Headers.WwwAuthenticate.ToString();
                Assert.Contains("Bearer realm=\"dfs\"", challenge);
                Assert.Contains("Basic realm=\"dfs\"", challenge);
                if (method != "HEAD")
                {
                    Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                    var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
                    Assert.Equal(401, problem!.Status);
                }
            }
        }

        // Open: health, OpenAPI and its UI (no data in them).
        using var anonymous = factory.CreateAnonymousClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/alive", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/openapi/v1.json", Ct)).StatusCode);
        // The document says how to authenticate: both schemes, required by every operation unless it says otherwise.
        using (var openApi = System.Text.Json.JsonDocument.Parse(await anonymous.GetStringAsync("/openapi/v1.json", Ct)))
        {
            var schemes = openApi.RootElement.GetProperty("components").GetProperty("securitySchemes");
            Assert.Equal("bearer", schemes.GetProperty("Bearer").GetProperty("scheme").GetString());
            Assert.Equal("basic", schemes.GetProperty("Basic").GetProperty("scheme").GetString());
            Assert.Equal(["Bearer", "Basic"], openApi.RootElement.GetProperty("security").EnumerateArray()
                .Select(r => Assert.Single(r.EnumerateObject()).Name));
        }
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/swagger/index.html", Ct)).StatusCode);
        // And the right credentials pass.
        Assert.Equal("alice", (await DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(alice.Token))).WhoAmIAsync(Ct)).Name);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Tokens_expire_and_can_be_revoked(string provider)
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var factory = (await GatewayFactory.CreateAsync(provider)).WithServices(s => s.AddSingleton<TimeProvider>(clock));
        factory.StartServer();
        var basic = await CreateUserAsync(factory, "alice");

        var week = await basic.CreateTokenAsync("laptop", ct: Ct);
        Assert.Equal("alice", week.User);
        Assert.Matches("^dfs_[A-Za-z0-9_-]{43}$", week.Token);
        Assert.Equal(clock.GetUtcNow().UtcDateTime.AddDays(7), week.ExpiresAt);
        // A longer life than configured is capped; a shorter one is granted.
        Assert.Equal(clock.GetUtcNow().UtcDateTime.AddDays(7), (await basic.CreateTokenAsync(ttlHours: 8760, ct: Ct)).ExpiresAt);
        var hour = await basic.CreateTokenAsync("short", ttlHours: 1, ct: Ct);
        Assert.Equal(clock.GetUtcNow().UtcDateTime.AddHours(1), hour.ExpiresAt);
        await FailsAsync(HttpStatusCode.BadRequest, () => basic.CreateTokenAsync(ttlHours: 0, ct: Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => basic.CreateTokenAsync(ttlHours: 8761, ct: Ct));

        // Only the SHA-256 of a token is stored.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var row = await scope.ServiceProvider.GetRequiredService<MetadataDbContext>().Tokens.SingleAsync(t => t.Id == week.Id, Ct);
            Assert.Equal(Dfs.Gateway.Auth.TokenFormat.HashOf(week.Token), row.TokenHash);
            Assert.DoesNotContain(week.Token, row.TokenHash + row.Name);
        }

        var withWeek = DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(week.Token)));
        var withHour = DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(hour.Token)));
        Assert.Equal("alice", (await withHour.WhoAmIAsync(Ct)).Name); // now also cached

        clock.Advance(TimeSpan.FromMinutes(61));
        await FailsAsync(HttpStatusCode.Unauthorized, () => withHour.WhoAmIAsync(Ct));
        Assert.Equal("alice", (await withWeek.WhoAmIAsync(Ct)).Name);

        var listed = await withWeek.ListTokensAsync(Ct);
        Assert.Equal(3, listed.Count);
        Assert.Contains(listed, t => t.Id == week.Id && t.Name == "laptop" && !t.Revoked);

        // Logout revokes the token used, at once (no cached answer survives it).
        await withWeek.RevokeCurrentTokenAsync(Ct);
        await FailsAsync(HttpStatusCode.Unauthorized, () => withWeek.WhoAmIAsync(Ct));
        Assert.Contains(await basic.ListTokensAsync(Ct), t => t.Id == week.Id && t.Revoked);
        // With Basic there is no current token.
        await FailsAsync(HttpStatusCode.BadRequest, () => basic.RevokeCurrentTokenAsync(Ct));

        // Revoking by id: one's own, or as admin anyone's; someone else's is as unknown as a missing one.
        var bob = await CreateUserAsync(factory, "bob");
        var another = await basic.CreateTokenAsync(ct: Ct);
        await FailsAsync(HttpStatusCode.NotFound, () => bob.RevokeTokenAsync(another.Id, Ct));
        await FailsAsync(HttpStatusCode.NotFound, () => bob.RevokeTokenAsync(Guid.NewGuid(), Ct));
        var withAnother = DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(another.Token)));
        Assert.Equal("alice", (await withAnother.WhoAmIAsync(Ct)).Name);
        await Admin(factory).RevokeTokenAsync(another.Id, Ct);
        await FailsAsync(HttpStatusCode.Unauthorized, () => withAnother.WhoAmIAsync(Ct));

        var last = await basic.CreateTokenAsync(ct: Ct);
        await basic.RevokeTokenAsync(last.Id, Ct);
        await FailsAsync(HttpStatusCode.Unauthorized, () => DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(last.Token))).WhoAmIAsync(Ct));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task The_first_admin_gets_the_configured_password_and_a_home(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();

        var me = await Admin(factory).WhoAmIAsync(Ct);
        Assert.Equal(new WhoAmI("admin", true, "/home/admin", null, 0), me);
        Assert.Equal(EntryKind.Directory, (await Admin(factory).StatAsync("/home/admin", Ct)).Kind);
        Assert.DoesNotContain(factory.Warnings, w => w.Contains("first admin", StringComparison.Ordinal));
        Assert.Equal(["admin"], (await Admin(factory).ListUsersAsync(Ct)).Select(u => u.Name));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Without_a_configured_password_the_first_admin_gets_one_shown_once(string provider)
    {
        await using var factory = (await GatewayFactory.CreateAsync(provider))
            .With("Dfs:Gateway:Auth:AdminPassword", null)
            .With("Dfs:Gateway:Auth:AdminUser", "root");
        factory.StartServer();

        var line = Assert.Single(factory.Warnings, w => w.Contains("first admin", StringComparison.Ordinal));
        var match = Regex.Match(line, @"Created the first admin user 'root' with password (\S+) \(shown once; change it with `dfs user passwd root`\)");
        Assert.True(match.Success, line);
        var password = match.Groups[1].Value;
        Assert.Equal(24, password.Length);
        var root = As(factory, "root", password);
        Assert.True((await root.WhoAmIAsync(Ct)).IsAdmin);
        Assert.Equal(EntryKind.Directory, (await root.StatAsync("/home/root", Ct)).Kind);
        // The configured default admin password is not in use.
        await FailsAsync(HttpStatusCode.Unauthorized, () => Admin(factory).WhoAmIAsync(Ct));

        // A restart over the same database creates nobody and shows nothing.
        await using var again = factory.Restarted().With("Dfs:Gateway:Auth:AdminPassword", null).With("Dfs:Gateway:Auth:AdminUser", "root");
        again.StartServer();
        Assert.DoesNotContain(again.Warnings, w => w.Contains("first admin", StringComparison.Ordinal));
        Assert.Equal(["root"], (await As(again, "root", password).ListUsersAsync(Ct)).Select(u => u.Name));
    }

    [Theory]
    [InlineData("Dfs:Gateway:Auth:Pbkdf2Iterations", "9999")]
    [InlineData("Dfs:Gateway:Auth:AdminPassword", "short")]
    [InlineData("Dfs:Gateway:Auth:AdminUser", "Admin")]
    [InlineData("Dfs:Gateway:Auth:TokenLifetimeHours", "0")]
    public async Task Bad_auth_settings_stop_the_gateway_at_start(string key, string value)
    {
        await using var factory = new GatewayFactory().With(key, value);
        var e = Assert.ThrowsAny<Exception>(() => factory.StartServer());
        Assert.Contains(key.Split(':')[^1], e.ToString());
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Password_changes_take_effect_at_once_and_keep_tokens(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        var alice = await CreateUserAsync(factory, "alice");
        Assert.Equal("alice", (await alice.WhoAmIAsync(Ct)).Name); // the Basic credential is cached now
        var token = await alice.CreateTokenAsync(ct: Ct);

        await FailsAsync(HttpStatusCode.BadRequest, () => alice.ChangePasswordAsync("not-my-password", "new-password-1", Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => alice.ChangePasswordAsync(PasswordOf("alice"), "short", Ct));
        await alice.ChangePasswordAsync(PasswordOf("alice"), "new-password-1", Ct);
        await FailsAsync(HttpStatusCode.Unauthorized, () => alice.WhoAmIAsync(Ct));
        Assert.Equal("alice", (await As(factory, "alice", "new-password-1").WhoAmIAsync(Ct)).Name);
        Assert.Equal("alice", (await DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(token.Token))).WhoAmIAsync(Ct)).Name);

        // An admin's reset and a promotion apply at once too, cached credentials or not.
        var current = As(factory, "alice", "new-password-1");
        await Admin(factory).UpdateUserAsync("alice", new UpdateUserRequest(Password: "reset-password-2"), Ct);
        await FailsAsync(HttpStatusCode.Unauthorized, () => current.WhoAmIAsync(Ct));
        var reset = As(factory, "alice", "reset-password-2");
        await FailsAsync(HttpStatusCode.Forbidden, () => reset.ListUsersAsync(Ct));
        await Admin(factory).UpdateUserAsync("alice", new UpdateUserRequest(IsAdmin: true), Ct);
        Assert.Equal(2, (await reset.ListUsersAsync(Ct)).Count);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_deleted_user_loses_tokens_and_shares_but_not_files(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        var alice = await CreateUserAsync(factory, "alice");
        var bob = await CreateUserAsync(factory, "bob");
        await PutEmptyAsync(alice, "/home/alice/kept.txt");
        await alice.CreateShareAsync("/home/alice", "bob", ShareAccess.Read, Ct);
        await bob.CreateShareAsync("/home/bob", "alice", ShareAccess.Read, Ct);
        var token = await alice.CreateTokenAsync(ct: Ct);
        var withToken = DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Bearer(token.Token)));
        Assert.Equal("alice", (await withToken.WhoAmIAsync(Ct)).Name);

        await Admin(factory).DeleteUserAsync("alice", Ct);

        await FailsAsync(HttpStatusCode.Unauthorized, () => withToken.WhoAmIAsync(Ct));
        await FailsAsync(HttpStatusCode.Unauthorized, () => alice.WhoAmIAsync(Ct));
        var shares = await bob.ListSharesAsync(ct: Ct);
        Assert.Empty(shares.Given);
        Assert.Empty(shares.Received);
        Assert.Equal(EntryKind.File, (await Admin(factory).StatAsync("/home/alice/kept.txt", Ct)).Kind);
        await FailsAsync(HttpStatusCode.NotFound, () => Admin(factory).DeleteUserAsync("alice", Ct));
        await FailsAsync(HttpStatusCode.NotFound, () => Admin(factory).UpdateUserAsync("alice", new UpdateUserRequest(IsAdmin: true), Ct));
    }

    [Fact]
    public async Task Concurrent_requests_with_one_basic_credential_all_succeed()
    {
        await using var factory = new GatewayFactory();
        factory.StartServer();
        await CreateUserAsync(factory, "alice");
        using var http = factory.CreateClient(GatewayCredentials.Basic("alice", PasswordOf("alice")));
        var answers = await Task.WhenAll(Enumerable.Range(0, 24).Select(_ => http.GetAsync("/api/auth/whoami", Ct)));
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        foreach (var a in answers) a.Dispose();
    }

    [Fact]
    public async Task A_status_code_page_does_not_hide_the_challenge()
    {
        await using var factory = new GatewayFactory();
        factory.StartServer();
        using var http = factory.CreateAnonymousClient();
        var problem = await ProblemAsync(await http.GetAsync("/api/list", Ct), HttpStatusCode.Unauthorized);
        Assert.Equal("Unauthorized", problem.Title);
        using var wrong = factory.CreateClient(GatewayCredentials.Basic("admin", "nope-nope"));
        Assert.Equal("Wrong user name or password.", (await ProblemAsync(await wrong.GetAsync("/api/list", Ct), HttpStatusCode.Unauthorized)).Detail);
    }
}
