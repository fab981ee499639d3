using System.Text;
using Dfs.Contracts.Api;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Auth.AccessKeys;

namespace Dfs.Gateway.Console;

/// <summary>
/// /console/keys: the signed-in user's own S3 access keys; create one (its secret is on the answer's page, and never
/// again) and revoke one. The same <see cref="AccessKeyService"/> as /api/keys, so the same rules and limits.
/// </summary>
internal static class AccessKeysPage
{
    public static RouteGroupBuilder MapAccessKeysPage(this RouteGroupBuilder console)
    {
        console.MapGet("/keys", async (HttpContext context, AccessKeyService keys, AccessKeyCipher cipher, CancellationToken ct) =>
            await RenderAsync(context, keys, cipher, created: null, ct));

        // The answer is the page itself, not a redirect: the secret must not travel in a URL, and is in no later answer.
        console.MapPost("/keys", async (HttpContext context, AccessKeyService keys, AccessKeyCipher cipher, CancellationToken ct) =>
            {
                var form = await context.Request.ReadFormAsync(ct);
                var created = await keys.CreateAsync(context.GetCaller(), forUser: null, form["name"].ToString(), ct);
                return await RenderAsync(context, keys, cipher, created, ct);
            })
            .AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);

        console.MapPost("/keys/{id}/revoke", async (string id, HttpContext context, AccessKeyService keys, CancellationToken ct) =>
            {
                await keys.RevokeAsync(context.GetCaller(), id, ct);
                return ConsoleHtml.SeeOther(ConsoleRoutes.Keys);
            })
            .AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);
        return console;
    }

    private static async Task<IResult> RenderAsync(HttpContext context, AccessKeyService keys, AccessKeyCipher cipher,
        (AccessKeyInfo Key, string Secret)? created, CancellationToken ct)
    {
        var caller = context.GetCaller();
        var list = await keys.ListAsync(caller, caller.Name, ct);
        var html = new StringBuilder(4096);
        html.Append("<div class=\"toolbar\"><h1>Access keys</h1><span class=\"spacer\"></span><span class=\"muted\" id=\"key-count\">")
            .Append(ConsoleHtml.E($"{list.Count} of {AccessKeyService.MaxKeysPerUser}")).Append("</span></div>");
        html.Append("<p class=\"muted\">An S3 client signs its requests with an access key id and its secret. Each key acts as you.</p>");

        if (created is { } made)
        {
            html.Append("<div class=\"notice\" id=\"new-key\" data-key-id=\"").Append(ConsoleHtml.E(made.Key.Id)).Append("\">")
                .Append("<p><strong>Access key created. Copy the secret now: it is shown only this once.</strong></p><dl class=\"details\">")
                .Append("<dt>Access key id</dt><dd><code id=\"new-key-id\">").Append(ConsoleHtml.E(made.Key.Id)).Append("</code></dd>")
                .Append("<dt>Secret access key</dt><dd><code id=\"new-key-secret\">").Append(ConsoleHtml.E(made.Secret)).Append("</code></dd>")
                .Append("</dl></div>");
        }

        if (!cipher.IsAvailable)
            html.Append("<p class=\"notice error\" id=\"keys-unavailable\">This gateway has no access key master key (")
                .Append(ConsoleHtml.E($"{GatewayOptions.Section}:{nameof(GatewayOptions.AccessKeyMasterKey)}"))
                .Append("): access keys can be neither created nor used.</p>");
        else
            html.Append("<div class=\"toolbar\"><form method=\"post\" action=\"").Append(ConsoleRoutes.Keys).Append("\" id=\"create-key-form\" class=\"inline\">")
                .Append(ConsoleHtml.TokenField(context))
                .Append("<input type=\"text\" id=\"key-name\" name=\"name\" maxlength=\"").Append(ConsoleHtml.E(AccessKeyService.MaxNameLength))
                .Append("\" placeholder=\"Name (optional)\" aria-label=\"Name of the new key\">")
                .Append("<button type=\"submit\" class=\"primary\" id=\"create-key\">Create access key</button></form></div>");

        html.Append("<table id=\"keys\"><thead><tr><th>Access key id</th><th>Name</th><th>Created</th><th></th></tr></thead><tbody>");
        if (list.Count == 0) html.Append("<tr id=\"no-keys\"><td colspan=\"4\" class=\"muted\">You have no access keys.</td></tr>");
        foreach (var key in list)
        {
            html.Append("<tr data-key-id=\"").Append(ConsoleHtml.E(key.Id)).Append("\"><td><code>").Append(ConsoleHtml.E(key.Id)).Append("</code></td>")
                .Append("<td data-field=\"name\">").Append(ConsoleHtml.E(key.Name)).Append("</td>")
                .Append("<td data-field=\"created\">").Append(ConsoleHtml.E(ConsoleHtml.Timestamp(key.CreatedAt))).Append("</td>")
                .Append("<td class=\"actions\"><form method=\"post\" action=\"").Append(ConsoleHtml.E(ConsoleRoutes.RevokeKey(key.Id)))
                .Append("\" data-action=\"revoke-key\" data-confirm=\"")
                .Append(ConsoleHtml.E($"Revoke access key {key.Id}? Clients using it stop working at once."))
                .Append("\">").Append(ConsoleHtml.TokenField(context))
                .Append("<button type=\"submit\" class=\"danger\" data-action=\"revoke-key\">Revoke</button></form></td></tr>");
        }
        html.Append("</tbody></table>");
        return ConsoleHtml.Page(context, "Access keys", "keys", html.ToString());
    }
}
