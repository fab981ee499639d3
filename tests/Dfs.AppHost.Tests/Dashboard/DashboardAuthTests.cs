using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dfs.Contracts.Clients;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>The dashboard opens only with its token: Bearer for the API, the login link's cookie for a browser.</summary>
[Trait("Category", "Dashboard")]
public sealed class DashboardAuthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Only_the_token_opens_the_dashboard()
    {
        await using var cluster = await DashboardCluster.StartAsync(Ct);
        var app = cluster.App;
        Assert.Equal("127.0.0.1", cluster.Url.Host);
        Assert.Equal(new Uri(cluster.Url, "login?t=" + cluster.Token), app.DashboardLoginUrl);
        Assert.True(cluster.Token.Length >= 32, "a random token long enough not to be guessed");

        using var anonymous = cluster.Anonymous();

        // Health is open; everything else is not.
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health", Ct)).StatusCode);

        using (var response = await anonymous.GetAsync("/api/resources", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains(response.Headers.WwwAuthenticate, h => h.Scheme == "Bearer");
            var problem = await response.Content.ReadFromJsonAsync<ProblemJson>(DfsJson.Options, Ct);
            Assert.Equal(401, problem!.Status);
            Assert.Contains("Bearer", problem.Detail);
        }
        using (var response = await anonymous.PostAsync("/api/resources/node-1/stop", null, Ct))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("running", ResourceStateName(app, "node-1"));

        foreach (var page in new[] { "/", "/cluster", "/files?path=%2F", "/resources/node-1/logs" })
        {
            using var response = await anonymous.GetAsync(page, Ct);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/login?returnUrl=" + Uri.EscapeDataString(page), response.Headers.Location?.OriginalString);
        }
        using (var response = await anonymous.GetAsync("/login", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("id=\"login-form\"", html);
            Assert.DoesNotContain(cluster.Token, html);
            // Only the page's own inline script may run.
            Assert.Contains("script-src 'nonce-", string.Join(";", response.Headers.GetValues("Content-Security-Policy")));
        }

        // A wrong token: refused everywhere.
        using (var wrong = cluster.Anonymous())
        {
            wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Token + "x");
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/resources", Ct)).StatusCode);
            wrong.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", cluster.Token[..^1]);
            Assert.Equal(HttpStatusCode.Unauthorized, (await wrong.GetAsync("/api/resources", Ct)).StatusCode);
        }
        using (var response = await anonymous.GetAsync("/login?t=not-the-token", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Empty(response.Headers.TryGetValues("Set-Cookie", out var none) ? none : []);
            Assert.Contains("id=\"login-error\"", await response.Content.ReadAsStringAsync(Ct));
        }
        // A made-up session cookie, or the token itself as the cookie, is not a session.
        foreach (var fake in new[] { "forged", cluster.Token })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/resources");
            request.Headers.Add("Cookie", $"dfs_dashboard_{cluster.Url.Port}={fake}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.SendAsync(request, Ct)).StatusCode);
        }

        // The Bearer token works for the API.
        var resources = await cluster.ResourcesAsync(Ct);
        Assert.Equal(["gateway", "node-1", "node-2"], resources.Select(r => r.Name));

        // The login link sets an HttpOnly, SameSite=Strict session cookie and sends the browser on; then pages and API work.
        var jar = new CookieContainer();
        using var browser = cluster.Anonymous(jar);
        using (var response = await browser.GetAsync(app.DashboardLoginUrl, Ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/", response.Headers.Location?.OriginalString);
            var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
            Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(cluster.Token, setCookie);
        }
        using (var response = await browser.GetAsync("/", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync(Ct);
            Assert.Contains("id=\"resource-node-2\"", html);
            Assert.Contains("id=\"nav-cluster\"", html);
        }
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/resources", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/resources/node-1/logs", Ct)).StatusCode);
        // A change with only the cookie must come from the dashboard's own script (another page on 127.0.0.1 is "same site").
        using (var response = await browser.PostAsync("/api/resources/node-1/stop", null, Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal("running", ResourceStateName(app, "node-1"));
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/api/resources/nope/stop"))
        {
            request.Headers.Add("X-Dfs-Dashboard", "1");
            Assert.Equal(HttpStatusCode.NotFound, (await browser.SendAsync(request, Ct)).StatusCode);
        }

        // The login form does the same, and only sends the browser back to this site.
        var formJar = new CookieContainer();
        using var formBrowser = cluster.Anonymous(formJar);
        using (var response = await formBrowser.PostAsync("/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = "nope", ["returnUrl"] = "/cluster" }), Ct))
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        using (var response = await formBrowser.PostAsync("/login",
            new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = cluster.Token, ["returnUrl"] = "/cluster" }), Ct))
        {
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.Equal("/cluster", response.Headers.Location?.OriginalString);
        }
        Assert.Equal(HttpStatusCode.OK, (await formBrowser.GetAsync("/cluster", Ct)).StatusCode);
        using (var response = await anonymous.GetAsync($"/login?t={cluster.Token}&returnUrl=%2F%2Fevil.example%2F", Ct))
            Assert.Equal("/", response.Headers.Location?.OriginalString);

        // Signing out ends the session.
        using (var response = await formBrowser.PostAsync("/logout", null, Ct))
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await formBrowser.GetAsync("/api/resources", Ct)).StatusCode);
    }

    private static string ResourceStateName(Dfs.AppHost.Hosting.DfsApplication app, string name) =>
        Dfs.AppHost.Model.ResourceStates.ToContractString(app.GetResource(name).State);
}
