using System.Net;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Auth;
using Microsoft.Net.Http.Headers;
using static Dfs.Gateway.Tests.Console.ConsoleKit;

namespace Dfs.Gateway.Tests.Console;

/// <summary>
/// Changes through the console need a console page's antiforgery token. These requests carry the victim's
/// cookies, as a page on another origin of the same site could make a browser send them (SameSite=Strict keeps
/// them from other sites altogether), but not the token, which such a page cannot read.
/// </summary>
public sealed class ConsoleCrossSiteTests
{
    private const string Refusal = "This request did not come from a page of the console (its antiforgery token is missing, stale or for another user). "
                                   + "Reload the page and try again.";

    [Fact]
    public async Task Posts_without_the_pages_antiforgery_token_are_refused_and_change_nothing()
    {
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "node-a");
        var node = await NodeAsync(gateway, "node-a");
        await AuthKit.CreateUserAsync(gateway, "mallory", isAdmin: true);
        using var victim = await AdminAsync(gateway);
        using var mallory = Browser(gateway);
        await mallory.SignedInAsync("mallory", AuthKit.PasswordOf("mallory"), Ct);
        // Both cookies the console sets are out of other sites' reach and out of scripts' reach.
        foreach (var cookie in new[] { ConsoleClient.SessionCookie, "dfs_console_csrf" })
            Assert.Contains(victim.Cookies.Keys, k => k == cookie);

        // Without a token, with a made-up one, and with a real one of another user's page.
        foreach (var token in new[] { "", "CfDJ8-made-up", mallory.Token! })
        {
            using (var upload = await victim.UploadAsync("/forged.bin", new ByteArrayContent([1, 2, 3]), Ct, token: token))
                Assert.Equal(Refusal, (await AuthKit.ProblemAsync(upload, HttpStatusCode.Forbidden)).Detail);
            foreach (var (url, fields) in new (string, KeyValuePair<string, string>[])[]
                     {
                         ("/console/mkdir", [new("path", "/"), new("name", "forged")]),
                         ($"/console/nodes/{node.Id}/drain", []),
                         ("/console/logout", []),
                     })
            {
                using var response = await victim.PostFormAsync(url, fields, Ct, token);
                Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{url} with '{token}': {(int)response.StatusCode}");
                Assert.Equal(Refusal, ConsoleClient.ErrorOf(await response.Content.ReadAsStringAsync(Ct)));
            }
        }
        // A token in the query string is not where the gateway looks.
        using (var inQuery = await victim.PostFormAsync("/console/mkdir?__csrf=" + Uri.EscapeDataString(victim.Token!), [new("path", "/"), new("name", "forged")], Ct, token: ""))
            Assert.Equal(HttpStatusCode.Forbidden, inQuery.StatusCode);
        // The token without its cookie (another origin's request would not carry the SameSite cookie of the page) fails too.
        var withoutTokenCookie = new Dictionary<string, string>(victim.Cookies);
        victim.Cookies.Remove("dfs_console_csrf");
        using (var upload = await victim.UploadAsync("/forged.bin", new ByteArrayContent([1, 2, 3]), Ct))
            Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        foreach (var (k, v) in withoutTokenCookie) victim.Cookies[k] = v;

        // Nothing happened: no file, no folder, the node is not draining, and the session is still signed in.
        var api = AdminApi(gateway);
        Assert.DoesNotContain((await api.ListAsync("/", ct: Ct)).Entries, e => e.Name is "forged" or "forged.bin");
        Assert.False((await NodeAsync(gateway, "node-a")).Draining);
        Assert.Equal(HttpStatusCode.OK, (await victim.PageAsync("/console", Ct)).Status);
        Assert.All(await AuthKit.Admin(gateway).ListTokensAsync(Ct), t => Assert.False(t.Revoked));

        // And the same requests with the page's own token go through (this test can fail).
        using (var upload = await victim.UploadAsync("/forged.bin", new ByteArrayContent([1, 2, 3]), Ct))
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        using (var mkdir = await victim.PostFormAsync("/console/mkdir", [new("path", "/"), new("name", "forged")], Ct))
            Assert.Equal(HttpStatusCode.SeeOther, mkdir.StatusCode);
        using (var drain = await victim.PostFormAsync($"/console/nodes/{node.Id}/drain", Ct))
            Assert.Equal(HttpStatusCode.SeeOther, drain.StatusCode);
        Assert.True((await NodeAsync(gateway, "node-a")).Draining);
        Assert.Contains((await api.ListAsync("/", ct: Ct)).Entries, e => e.Name == "forged");
    }

    [Fact]
    public async Task A_sign_in_form_posted_from_elsewhere_is_refused_and_sets_no_cookie()
    {
        await using var gateway = StartGateway();
        using var browser = Browser(gateway);
        // Another site's form: the right password even, but no token (and no token cookie).
        using var response = await browser.PostFormAsync("/console/login",
            [new("user", GatewayFactory.AdminUser), new("password", GatewayFactory.AdminPassword)], Ct, token: "");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(Refusal, ConsoleClient.ErrorOf(await response.Content.ReadAsStringAsync(Ct)));
        Assert.DoesNotContain(browser.LastSetCookies, c => c.Name == ConsoleClient.SessionCookie);
        Assert.Empty(await AuthKit.Admin(gateway).ListTokensAsync(Ct));
    }

    [Fact]
    public async Task The_console_cookies_are_HttpOnly_and_SameSite_Strict()
    {
        await using var gateway = StartGateway();
        using var browser = Browser(gateway);
        using (await browser.GetAsync("/console/login", Ct))
        {
            var token = Assert.Single(browser.LastSetCookies, c => c.Name == "dfs_console_csrf");
            Assert.True(token.HttpOnly);
            Assert.Equal(SameSiteMode.Strict, token.SameSite);
            Assert.Equal("/console", token.Path.Value);
        }
        using var signedIn = await browser.SignInAsync(GatewayFactory.AdminUser, GatewayFactory.AdminPassword, Ct);
        var session = Assert.Single(browser.LastSetCookies, c => c.Name == ConsoleClient.SessionCookie);
        Assert.True(session.HttpOnly);
        Assert.Equal(SameSiteMode.Strict, session.SameSite);
    }
}
