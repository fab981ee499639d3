using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Auth;
using Microsoft.AspNetCore.Authorization;
using DefaultHttpContext = Microsoft.AspNetCore.Http.DefaultHttpContext;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Net.Http.Headers;
using static Dfs.Gateway.Tests.Console.ConsoleKit;

namespace Dfs.Gateway.Tests.Console;

/// <summary>Signing in to the console: the API's users and tokens in a cookie, and nothing without them.</summary>
public sealed class ConsoleSignInTests
{
    [Fact]
    public async Task Without_a_session_every_console_route_leads_to_the_sign_in_page_and_does_nothing()
    {
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "n1");
        var node = await NodeAsync(gateway, "n1");
        var routes = gateway.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/console", StringComparison.Ordinal))
            .Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(m => (Method: m, Pattern: e.RoutePattern.RawText!)))
            .ToList();
        // The enumeration sees the console (a broken one would make this test pass vacuously).
        foreach (var expected in new[] { "/console/", "/console/files", "/console/download", "/console/upload", "/console/mkdir", "/console/logout",
                     "/console/nodes/{node}/drain", "/console/nodes/{node}/drain/cancel", "/console/{**rest}" })
            Assert.Contains(routes, r => r.Pattern == expected);

        using var browser = Browser(gateway);
        foreach (var (method, pattern) in routes)
        {
            var url = pattern.Replace("{node}", node.Id.ToString()).Replace("{**rest}", "some/page") + "?path=%2Fx";
            foreach (var cookie in new[] { null, "dfs_" + new string('A', 43), "not-a-token" })
            {
                browser.Cookies.Clear();
                if (cookie is not null) browser.Cookies[ConsoleClient.SessionCookie] = cookie;
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                if (method == "POST") request.Content = new FormUrlEncodedContent([new("path", "/"), new("name", "x")]);
                using var response = await browser.SendAsync(request, Ct);
                var because = $"{method} {url} with {cookie ?? "no cookie"}";
                if (method == "GET")
                {
                    Assert.True(response.StatusCode == HttpStatusCode.Found, $"{because}: {(int)response.StatusCode}");
                    Assert.Equal("/console/login?returnUrl=" + Uri.EscapeDataString(url) + (cookie is null ? "" : "&ended=1"),
                        response.Headers.Location?.OriginalString);
                }
                else
                {
                    Assert.True(response.StatusCode == HttpStatusCode.SeeOther, $"{because}: {(int)response.StatusCode}");
                    Assert.Equal("/console/login" + (cookie is null ? "" : "?ended=1"), response.Headers.Location?.OriginalString);
                }
                // A session the gateway does not accept is cleared from the browser.
                Assert.Equal(cookie is not null, browser.LastSetCookies.Any(c => c.Name == ConsoleClient.SessionCookie && c.Expires < DateTimeOffset.UtcNow));
            }
        }

        // The console's scripts get the 401 problem instead of a page.
        using (var script = await browser.GetAsync("/console?partial=1", Ct, accept: "application/json"))
        {
            Assert.Equal("Bearer realm=\"dfs\"", script.Headers.WwwAuthenticate.ToString());
            var problem = await AuthKit.ProblemAsync(script, HttpStatusCode.Unauthorized);
            Assert.Equal("Sign in to the console first.", problem.Detail);
        }
        // Nothing happened: no folder, no drain, and the sign-in page is there for anyone.
        Assert.False((await NodeAsync(gateway, "n1")).Draining);
        Assert.DoesNotContain((await AdminApi(gateway).ListAsync("/", ct: Ct)).Entries, e => e.Name == "x");
        var (status, html) = await browser.PageAsync("/console/login", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"login-form\"", html);
    }

    [Fact]
    public async Task A_wrong_password_is_refused_with_a_message_and_no_session_cookie()
    {
        await using var gateway = StartGateway();
        await AuthKit.CreateUserAsync(gateway, "alice");
        using var browser = Browser(gateway);
        foreach (var (user, password) in new[] { ("admin", "wrong-password"), ("nobody", "whatever-password"), ("alice", AuthKit.PasswordOf("bob")), ("Not A Name", "some-password-9") })
        {
            using var response = await browser.SignInAsync(user, password, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // the form again, with the reason
            var html = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("id=\"login-message\" role=\"alert\">Wrong user name or password.</p>", html);
            Assert.DoesNotContain(browser.LastSetCookies, c => c.Name == ConsoleClient.SessionCookie);
            Assert.Null(browser.Session);
            // The form comes back with the name typed, never the password.
            Assert.Contains($"name=\"user\" autocomplete=\"username\" required autofocus value=\"{WebUtility.HtmlEncode(user)}\"", html);
            Assert.DoesNotContain(password, html);
        }
        using (var empty = await browser.SignInAsync("alice", "", Ct))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            Assert.Contains("Enter your user name and password.", await empty.Content.ReadAsStringAsync(Ct));
        }
        Assert.Empty(await AuthKit.As(gateway, "alice").ListTokensAsync(Ct));
        Assert.Empty(await AuthKit.Admin(gateway).ListTokensAsync(Ct));
    }

    [Fact]
    public async Task Signing_in_sets_an_HttpOnly_SameSite_Strict_cookie_holding_an_api_token_for_the_console_only()
    {
        await using var gateway = StartGateway();
        var alice = await AuthKit.CreateUserAsync(gateway, "alice");
        using var browser = Browser(gateway);

        using var response = await browser.SignInAsync("alice", AuthKit.PasswordOf("alice"), Ct, returnUrl: "/console/files?path=%2Fhome%2Falice");
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/console/files?path=%2Fhome%2Falice", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(browser.LastSetCookies, c => c.Name == ConsoleClient.SessionCookie);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteMode.Strict, cookie.SameSite);
        Assert.Equal("/", cookie.Path.Value);
        Assert.False(cookie.Secure); // plain HTTP here; Secure when the request is HTTPS

        // It is an ordinary API token of alice's, named "console", with the configured lifetime.
        var token = Assert.Single(await alice.ListTokensAsync(Ct));
        Assert.Equal("console", token.Name);
        Assert.Equal(token.ExpiresAt, ((DateTimeOffset)cookie.Expires!).UtcDateTime, TimeSpan.FromSeconds(1));
        Assert.InRange(token.ExpiresAt - DateTime.UtcNow, TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1), TimeSpan.FromDays(7));
        Assert.Equal("alice", (await DfsRefit.Gateway(gateway.CreateClient(GatewayCredentials.Bearer(browser.Session!))).WhoAmIAsync(Ct)).Name);

        var (status, html) = await browser.PageAsync("/console", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"whoami\" data-user=\"alice\" data-admin=\"false\"", html);
        // Signed in, the sign-in page sends the browser on.
        using (var again = await browser.GetAsync("/console/login?returnUrl=%2Fconsole%2Ffiles", Ct))
        {
            Assert.Equal(HttpStatusCode.Found, again.StatusCode);
            Assert.Equal("/console/files", again.Headers.Location?.OriginalString);
        }

        // The cookie is honoured by the console only: on the API (no antiforgery there) it is no credential.
        using var api = new HttpClient { BaseAddress = browser.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/auth/whoami");
        request.Headers.Add("Cookie", $"{ConsoleClient.SessionCookie}={browser.Session}");
        using var refused = await api.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Over_https_the_session_cookie_is_also_Secure()
    {
        await using var gateway = StartGateway();
        await using var scope = gateway.Services.CreateAsyncScope();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Scheme = "https";
        var admin = await scope.ServiceProvider.GetRequiredService<Dfs.Gateway.Auth.CredentialValidator>()
            .ValidateBasicAsync(GatewayFactory.AdminUser, GatewayFactory.AdminPassword, Ct);

        await Dfs.Gateway.Console.ConsoleSession.SignInAsync(context, admin!, scope.ServiceProvider.GetRequiredService<Dfs.Gateway.Auth.TokenService>(), Ct);

        var cookie = Assert.Single(SetCookieHeaderValue.ParseList(context.Response.Headers.SetCookie.Select(v => v!).ToList()));
        Assert.Equal(ConsoleClient.SessionCookie, cookie.Name.Value);
        Assert.True(cookie.Secure);
        Assert.True(cookie.HttpOnly);
        Assert.Equal(SameSiteMode.Strict, cookie.SameSite);
    }

    [Theory]
    [InlineData("https://evil.example/console")]
    [InlineData("//evil.example/console")]
    [InlineData("/\\evil.example")]
    [InlineData("/api/users")]
    [InlineData("javascript:alert(1)")]
    public async Task Only_console_return_urls_are_followed(string returnUrl)
    {
        await using var gateway = StartGateway();
        using var browser = Browser(gateway);
        var (_, page) = await browser.PageAsync("/console/login?returnUrl=" + Uri.EscapeDataString(returnUrl), Ct);
        Assert.Contains("name=\"returnUrl\" value=\"/console\"", page);
        using var response = await browser.SignInAsync(GatewayFactory.AdminUser, GatewayFactory.AdminPassword, Ct, returnUrl);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/console", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_token_revoked_through_the_api_ends_the_console_session_at_once()
    {
        await using var gateway = StartGateway();
        using var browser = await AdminAsync(gateway);
        // Seen once, so the credential cache holds it: the revocation must reach past the cache.
        Assert.Equal(HttpStatusCode.OK, (await browser.PageAsync("/console/files?path=%2F", Ct)).Status);
        var admin = AuthKit.Admin(gateway);
        var session = Assert.Single(await admin.ListTokensAsync(Ct), t => t.Name == "console");

        await admin.RevokeTokenAsync(session.Id, Ct);

        using var response = await browser.GetAsync("/console/files?path=%2F", Ct);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/console/login?returnUrl=" + Uri.EscapeDataString("/console/files?path=%2F") + "&ended=1", response.Headers.Location?.OriginalString);
        Assert.Null(browser.Session); // cleared
        var (_, login) = await browser.PageAsync(response.Headers.Location!.OriginalString, Ct);
        Assert.Contains("Your session has ended", login);
    }

    [Fact]
    public async Task An_expired_token_ends_the_console_session()
    {
        // From now: the cookie's expiry is the token's, and a cookie already expired would not be sent at all.
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        await using var gateway = StartGateway(g => g.With("Dfs:Gateway:Auth:TokenLifetimeHours", "1").WithServices(s => s.AddSingleton<TimeProvider>(clock)));
        using var browser = await AdminAsync(gateway);
        clock.Advance(TimeSpan.FromMinutes(59));
        Assert.Equal(HttpStatusCode.OK, (await browser.PageAsync("/console", Ct)).Status);

        clock.Advance(TimeSpan.FromMinutes(2));
        using var response = await browser.GetAsync("/console", Ct);
        Assert.Equal(HttpStatusCode.Found, response.StatusCode);
        Assert.Equal("/console/login?ended=1", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task Signing_out_revokes_the_token_and_clears_the_cookie()
    {
        await using var gateway = StartGateway();
        using var browser = await AdminAsync(gateway);
        var session = browser.Session!;

        using var response = await browser.PostFormAsync("/console/logout", Ct);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.Equal("/console/login?signedOut=1", response.Headers.Location?.OriginalString);
        Assert.Contains(browser.LastSetCookies, c => c.Name == ConsoleClient.SessionCookie && c.Expires < DateTimeOffset.UtcNow && c.Path == "/");
        Assert.Null(browser.Session);
        Assert.True(Assert.Single(await AuthKit.Admin(gateway).ListTokensAsync(Ct)).Revoked);

        // The old cookie, kept by someone, is worth nothing: not on the console, not as a bearer token.
        browser.Cookies[ConsoleClient.SessionCookie] = session;
        using (var page = await browser.GetAsync("/console", Ct)) Assert.Equal(HttpStatusCode.Found, page.StatusCode);
        await AuthKit.FailsAsync(HttpStatusCode.Unauthorized,
            () => DfsRefit.Gateway(gateway.CreateClient(GatewayCredentials.Bearer(session))).WhoAmIAsync(Ct));
    }

    [Fact]
    public async Task Sign_in_attempts_are_rate_limited_like_api_logins()
    {
        await using var gateway = StartGateway(g => g.With("Dfs:Gateway:RateLimit:PermitsPerSecond", "1").With("Dfs:Gateway:RateLimit:Burst", "3"));
        using var browser = Browser(gateway);
        var (_, _) = await browser.PageAsync("/console/login", Ct);
        var token = browser.Token!;
        var cookies = string.Join("; ", browser.Cookies.Select(c => $"{c.Key}={c.Value}"));
        using var http = new HttpClient { BaseAddress = browser.BaseAddress };
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(async _ =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/console/login")
            {
                Content = new FormUrlEncodedContent([new("user", "admin"), new("password", "guess-guess"), new(ConsoleClient.TokenField, token)]),
            };
            request.Headers.Add("Cookie", cookies);
            using var response = await http.SendAsync(request, Ct);
            return (response.StatusCode, RetryAfter: response.Headers.RetryAfter?.Delta, Html: await response.Content.ReadAsStringAsync(Ct));
        }));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, (HttpStatusCode[])[HttpStatusCode.OK, HttpStatusCode.TooManyRequests]));
        // The refusal is a page the browser shows, with the wait.
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.NotNull(refused.RetryAfter);
        Assert.Matches(@"^The limit is 1 requests per second with bursts of 3\. Retry after \d+ s\.$", ConsoleClient.ErrorOf(refused.Html));
        Assert.Null(browser.Session);
    }
}
