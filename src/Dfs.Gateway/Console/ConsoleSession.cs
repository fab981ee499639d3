using Dfs.Contracts.Api;
using Dfs.Gateway.Auth;
using Microsoft.AspNetCore.Mvc;

namespace Dfs.Gateway.Console;

/// <summary>
/// The console's sign-in is an ordinary API token (<see cref="TokenService"/>, with its lifetime) kept in an
/// HttpOnly, SameSite=Strict cookie: the authentication handler checks it like a bearer token, so a revoked or
/// expired token ends the session on the next request.
/// </summary>
public static class ConsoleSession
{
    public const string CookieName = "dfs_console";

    /// <summary>The name the console's tokens get in the user's token list.</summary>
    public const string TokenName = "console";

    /// <summary>
    /// Only console requests are authenticated by the cookie. The API's own routes take no antiforgery token, so
    /// a cookie honoured there would let any page the browser shows drive them with the user's rights.
    /// </summary>
    public static bool Covers(HttpRequest request) => request.Path.StartsWithSegments(ConsoleRoutes.Prefix);

    /// <summary>The session token the request carries, when it is a console request.</summary>
    public static string? TokenOf(HttpRequest request) =>
        Covers(request) && request.Cookies.TryGetValue(CookieName, out var token) && !string.IsNullOrEmpty(token) ? token : null;

    /// <summary>
    /// True when the request's user came in by the cookie (an Authorization header takes precedence over it), so the
    /// token of <see cref="Caller.TokenId"/> is the session's.
    /// </summary>
    public static bool IsCookieSession(HttpContext context) =>
        context.Request.Headers.Authorization.Count == 0 && TokenOf(context.Request) is not null;

    public static async Task<TokenCreated> SignInAsync(HttpContext context, Caller caller, TokenService tokens, CancellationToken ct)
    {
        var token = await tokens.CreateAsync(caller, new CreateTokenRequest(TokenName), ct);
        context.Response.Cookies.Append(CookieName, token.Token, CookieOptions(context, new DateTimeOffset(token.ExpiresAt, TimeSpan.Zero)));
        return token;
    }

    public static void Clear(HttpContext context) => context.Response.Cookies.Delete(CookieName, CookieOptions(context, expires: null));

    private static CookieOptions CookieOptions(HttpContext context, DateTimeOffset? expires) => new()
    {
        HttpOnly = true,
        SameSite = SameSiteMode.Strict,
        Secure = context.Request.IsHttps,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };

    /// <summary>
    /// No (valid) session on a console request: the browser goes to the sign-in page, which sends it back here
    /// afterwards; script calls (Accept: application/json) get the 401 problem, which they answer by navigating.
    /// </summary>
    internal static async Task ChallengeAsync(HttpContext context, bool sessionEnded, string? why)
    {
        if (sessionEnded) Clear(context);
        var request = context.Request;
        if (WantsJson(request))
        {
            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            // Bearer only: a Basic challenge would make the browser pop up its own password dialog over the page.
            context.Response.Headers.WWWAuthenticate = "Bearer realm=\"dfs\"";
            await WriteProblemAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized",
                why ?? "Sign in to the console first.");
            return;
        }
        var isRead = HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method);
        var back = isRead ? request.PathBase + request.Path + request.QueryString : null;
        context.Response.StatusCode = isRead ? StatusCodes.Status302Found : StatusCodes.Status303SeeOther;
        context.Response.Headers.Location = ConsoleRoutes.LoginFor(back, sessionEnded);
    }

    /// <summary>An action for admins only, asked by someone else: a page saying so (or the problem, for scripts).</summary>
    internal static async Task ForbidAsync(HttpContext context, string detail)
    {
        if (await TryRefuseAsync(context, StatusCodes.Status403Forbidden, "Forbidden", detail)) return;
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteProblemAsync(context, StatusCodes.Status403Forbidden, "Forbidden", detail);
    }

    /// <summary>
    /// A refusal decided before the console's own endpoints run (authorization, the rate limiter), as the page a
    /// browser can show. False (nothing written) for a request that is not the console's or that asks for JSON.
    /// </summary>
    public static async Task<bool> TryRefuseAsync(HttpContext context, int status, string title, string detail)
    {
        if (!Covers(context.Request) || WantsJson(context.Request)) return false;
        await ConsoleHtml.ErrorPage(context, status, title, detail).ExecuteAsync(context);
        return true;
    }

    /// <summary>The console's scripts ask for JSON; a browser navigating (or a form) asks for a page.</summary>
    internal static bool WantsJson(HttpRequest request) =>
        request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
                                                  || a.MediaType.Equals("application/problem+json", StringComparison.OrdinalIgnoreCase));

    private static Task WriteProblemAsync(HttpContext context, int status, string title, string detail) =>
        context.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        }).AsTask();
}
