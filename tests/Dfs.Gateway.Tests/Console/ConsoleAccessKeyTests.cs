using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dfs.Contracts.Api;
using Dfs.Gateway.Auth.AccessKeys;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Auth;
using Microsoft.Extensions.DependencyInjection;
using static Dfs.Gateway.Tests.Console.ConsoleKit;

namespace Dfs.Gateway.Tests.Console;

/// <summary>/console/keys: the signed-in user's own access keys, a new key's secret shown once, revocation; posts need the page's token.</summary>
public sealed partial class ConsoleAccessKeyTests
{
    private const string MasterKeySetting = "Dfs:Gateway:AccessKeyMasterKey";

    [Fact]
    public async Task A_user_creates_sees_and_revokes_their_own_keys_and_the_secret_is_shown_once()
    {
        await using var gateway = StartGateway(g => g.With(MasterKeySetting, Convert.ToHexString(RandomNumberGenerator.GetBytes(32))));
        await AuthKit.CreateUserAsync(gateway, "alice");
        var bobs = await (await AuthKit.CreateUserAsync(gateway, "bob")).CreateAccessKeyAsync(new CreateAccessKeyRequest("bob's"), Ct);
        var admins = await AdminApi(gateway).CreateAccessKeyAsync(new CreateAccessKeyRequest("admin's"), Ct);
        using var alice = Browser(gateway);
        await alice.SignedInAsync("alice", AuthKit.PasswordOf("alice"), Ct);

        var (status, empty) = await alice.PageAsync("/console/keys", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"nav-keys\" href=\"/console/keys\" class=\"active\"", empty);
        Assert.Contains("id=\"no-keys\"", empty);
        Assert.Contains("id=\"create-key-form\"", empty);
        Assert.DoesNotContain(bobs.Id, empty);

        // Created: the answer is the page with the secret; nothing after it shows the secret again.
        using var created = await alice.PostFormAsync("/console/keys", [new("name", "laptop <1>")], Ct);
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.True(created.Headers.CacheControl?.NoStore, "the page with the secret is never kept");
        var page = await created.Content.ReadAsStringAsync(Ct);
        var id = NewKeyId().Match(page).Groups[1].Value;
        var secret = NewKeySecret().Match(page).Groups[1].Value;
        Assert.Matches("^DFS[A-Z2-7]{17}$", id);
        Assert.Matches("^[A-Za-z0-9]{40}$", secret);
        Assert.Contains("shown only this once", page);
        Assert.Contains("laptop &lt;1&gt;", page);
        await using (var scope = gateway.Services.CreateAsyncScope())
        {
            var found = await scope.ServiceProvider.GetRequiredService<AccessKeyService>().FindAsync(id, Ct);
            Assert.Equal(("alice", secret), (found!.Caller.Name, found.Secret));
        }
        var (_, again) = await alice.PageAsync("/console/keys", Ct);
        Assert.Contains($"<tr data-key-id=\"{id}\">", again);
        Assert.DoesNotContain(secret, again);
        Assert.DoesNotContain("id=\"new-key\"", again);
        // Only her own keys, even for an admin's page.
        Assert.DoesNotContain(bobs.Id, again);
        Assert.DoesNotContain(admins.Id, again);

        // Revoking takes the page's token; someone else's key is as missing as one that never was.
        using (var forged = await alice.PostFormAsync($"/console/keys/{id}/revoke", Ct, token: ""))
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using (var forged = await alice.PostFormAsync("/console/keys", [new("name", "forged")], Ct, token: ""))
            Assert.Equal(HttpStatusCode.Forbidden, forged.StatusCode);
        using (var others = await alice.PostFormAsync($"/console/keys/{bobs.Id}/revoke", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, others.StatusCode);
            Assert.Equal($"You have no access key {bobs.Id}.", ConsoleClient.ErrorOf(await others.Content.ReadAsStringAsync(Ct)));
        }
        Assert.Equal(new[] { bobs.Id, admins.Id, id }.Order(), (await AdminApi(gateway).ListAccessKeysAsync(ct: Ct)).Select(k => k.Id).Order());

        using (var revoked = await alice.PostFormAsync($"/console/keys/{id}/revoke", Ct))
        {
            Assert.Equal(HttpStatusCode.SeeOther, revoked.StatusCode);
            Assert.Equal("/console/keys", revoked.Headers.Location?.OriginalString);
        }
        Assert.Contains("id=\"no-keys\"", (await alice.PageAsync("/console/keys", Ct)).Html);
        Assert.Equal(new[] { bobs.Id, admins.Id }.Order(), (await AdminApi(gateway).ListAccessKeysAsync(ct: Ct)).Select(k => k.Id).Order());
    }

    [Fact]
    public async Task Without_the_master_key_the_page_says_so_and_creating_is_a_503_page()
    {
        await using var gateway = StartGateway();
        using var admin = await AdminAsync(gateway);

        var (status, html) = await admin.PageAsync("/console/keys", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("id=\"keys-unavailable\"", html);
        Assert.DoesNotContain("id=\"create-key-form\"", html);

        using var created = await admin.PostFormAsync("/console/keys", [new("name", "x")], Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, created.StatusCode);
        Assert.Contains("Dfs:Gateway:AccessKeyMasterKey", ConsoleClient.ErrorOf(await created.Content.ReadAsStringAsync(Ct)));
    }

    [GeneratedRegex("<code id=\"new-key-id\">([^<]*)</code>")]
    private static partial Regex NewKeyId();

    [GeneratedRegex("<code id=\"new-key-secret\">([^<]*)</code>")]
    private static partial Regex NewKeySecret();
}
