using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.AppHost.Dashboard;

/// <summary>
/// The dashboard's one secret. The browser session cookie holds a value derived from it (not the token
/// itself); every comparison hashes both sides first so it takes the same time whatever the input.
/// </summary>
internal sealed class DashboardToken
{
    private readonly byte[] _tokenHash;
    private readonly string _sessionValue;
    private readonly byte[] _sessionHash;

    public DashboardToken(string token)
    {
        Value = token;
        _tokenHash = SHA256.HashData(Encoding.UTF8.GetBytes(token));
        _sessionValue = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "dfs-dashboard-session"u8));
        _sessionHash = SHA256.HashData(Encoding.UTF8.GetBytes(_sessionValue));
    }

    public string Value { get; }

    public string SessionValue => _sessionValue;

    public bool Matches(string? candidate) => Same(candidate, _tokenHash);

    public bool MatchesSession(string? candidate) => Same(candidate, _sessionHash);

    /// <summary>Per port: two dashboards on 127.0.0.1 share the browser's cookie jar.</summary>
    public static string CookieName(HttpContext context) => "dfs_dashboard_" + context.Connection.LocalPort;

    public Access Check(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            return Matches(authorization["Bearer ".Length..].Trim()) ? Access.Bearer : Access.None;
        return context.Request.Cookies.TryGetValue(CookieName(context), out var session) && MatchesSession(session) ? Access.Session : Access.None;
    }

    public enum Access { None, Bearer, Session }

    private static bool Same(string? candidate, byte[] expectedHash) =>
        candidate is not null && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(candidate)), expectedHash);
}

internal static class DashboardAuth
{
    public const string LoginPath = "/login";

    /// <summary>Sent by the pages' script with every API call; see <see cref="UseDashboardAuth"/>.</summary>
    public const string PageHeader = "X-Dfs-Dashboard";

    /// <summary>
    /// Everything but /login and /health needs the session cookie or the Bearer token. A change through the API
    /// with only the cookie must also carry <see cref="PageHeader"/>: other pages on 127.0.0.1 count as the same
    /// site for SameSite, but cannot add a header to a cross-origin request without a CORS preflight we never allow.
    /// </summary>
    public static WebApplication UseDashboardAuth(this WebApplication web)
    {
        web.Use(async (context, next) =>
        {
            var path = context.Request.Path;
            if (path.StartsWithSegments(LoginPath) || path.StartsWithSegments("/health"))
            {
                await next(context);
                return;
            }
            var access = context.RequestServices.GetRequiredService<DashboardToken>().Check(context);
            if (access == DashboardToken.Access.Session && path.StartsWithSegments("/api")
                && !HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method)
                && !context.Request.Headers.ContainsKey(PageHeader))
            {
                await Results.Problem(
                    statusCode: StatusCodes.Status403Forbidden,
                    title: "Not from the dashboard",
                    detail: $"Changes with the session cookie must come from the dashboard's pages (header {PageHeader}); tools send the Bearer token.")
                    .ExecuteAsync(context);
                return;
            }
            if (access != DashboardToken.Access.None)
            {
                await next(context);
                return;
            }
            if (path.StartsWithSegments("/api"))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"dfs-dashboard\"";
                await Results.Problem(
                    statusCode: StatusCodes.Status401Unauthorized,
                    title: "Not signed in",
                    detail: "Send the dashboard token as 'Authorization: Bearer TOKEN' (it is printed by the AppHost and written to cluster.json).")
                    .ExecuteAsync(context);
                return;
            }
            context.Response.Redirect(LoginPath + "?returnUrl=" + Uri.EscapeDataString(context.Request.Path + context.Request.QueryString));
        });
        return web;
    }

    /// <summary>
    /// Security headers on every answer: a per-request script nonce (only our own inline scripts run), no
    /// framing, no referrer (the login URL carries the token), nothing cached.
    /// </summary>
    public static WebApplication UseDashboardHeaders(this WebApplication web)
    {
        web.Use(async (context, next) =>
        {
            var nonce = Convert.ToBase64String(RandomNumberGenerator.GetBytes(16));
            context.Items[Html.NonceKey] = nonce;
            var headers = context.Response.Headers;
            headers.ContentSecurityPolicy =
                $"default-src 'self'; script-src 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
                "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers.CacheControl = "no-store";
            await next(context);
        });
        return web;
    }

    public static WebApplication MapDashboardAuth(this WebApplication web)
    {
        web.MapGet("/health", () => TypedResults.Text("Healthy")).ExcludeFromDescription();
        web.MapGet(LoginPath, (string? t, string? returnUrl, HttpContext context, DashboardToken token) =>
            t is null ? LoginPage(context, returnUrl, error: null)
            : token.Matches(t) ? SignIn(context, token, returnUrl)
            : LoginPage(context, returnUrl, "That token is not valid.", StatusCodes.Status401Unauthorized));
        web.MapPost(LoginPath, async (HttpContext context, DashboardToken token) =>
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
            var returnUrl = form?["returnUrl"].ToString();
            return token.Matches(form?["token"].ToString().Trim())
                ? SignIn(context, token, returnUrl)
                : LoginPage(context, returnUrl, "That token is not valid.", StatusCodes.Status401Unauthorized);
        }).DisableAntiforgery();
        web.MapPost("/logout", (HttpContext context) =>
        {
            context.Response.Cookies.Delete(DashboardToken.CookieName(context));
            return Results.Redirect(LoginPath);
        }).DisableAntiforgery();
        return web;
    }

    private static IResult SignIn(HttpContext context, DashboardToken token, string? returnUrl)
    {
        context.Response.Cookies.Append(DashboardToken.CookieName(context), token.SessionValue, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Path = "/",
            IsEssential = true,
        });
        return Results.Redirect(IsLocal(returnUrl) ? returnUrl! : "/");
    }

    /// <summary>Only paths of this site: "/x" but not "//host" or "/\host", which browsers read as another site.</summary>
    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'))
        && !url.Any(char.IsControl);

    private static IResult LoginPage(HttpContext context, string? returnUrl, string? error, int status = StatusCodes.Status200OK)
    {
        var body = new StringBuilder();
        body.Append("<section class=\"login\"><h1>Dfs dashboard</h1>");
        body.Append("<p>Enter the dashboard token. The AppHost prints a login link when it starts, and writes the token to <code>cluster.json</code> in its state folder.</p>");
        if (error is not null) body.Append("<p class=\"message error\" id=\"login-error\" role=\"alert\">").Append(Html.E(error)).Append("</p>");
        body.Append("<form method=\"post\" action=\"/login\" id=\"login-form\">");
        body.Append("<input type=\"hidden\" name=\"returnUrl\" value=\"").Append(Html.E(IsLocal(returnUrl) ? returnUrl : "/")).Append("\">");
        body.Append("<label for=\"login-token\">Token</label> <input type=\"password\" id=\"login-token\" name=\"token\" autocomplete=\"off\" autofocus required> ");
        body.Append("<button type=\"submit\" id=\"login-submit\">Open dashboard</button></form></section>");
        return Html.Page(context, "Sign in", nav: null, body.ToString(), status: status);
    }
}
