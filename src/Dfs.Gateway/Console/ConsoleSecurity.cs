using Dfs.Gateway.Http;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.Console;

/// <summary>
/// What keeps the console's pages from being framed, sniffed or fed foreign script, and its changes from being
/// forged by another site: security headers on every console answer, and an antiforgery token on every post.
/// </summary>
internal static class ConsoleSecurity
{
    /// <summary>Scripts send the token in this header (no form to read: uploads stream their body).</summary>
    public const string TokenHeader = "X-Dfs-Csrf";

    /// <summary>Forms send the token in this field.</summary>
    public const string TokenField = "__csrf";

    public const string TokenCookie = "dfs_console_csrf";

    /// <summary>A sign-in, a folder or key name, a drain: a form this size is already far more than any of them.</summary>
    private const long MaxFormBytes = 64 * 1024;

    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'";

    public static void ConfigureAntiforgery(AntiforgeryOptions options)
    {
        options.HeaderName = TokenHeader;
        options.FormFieldName = TokenField;
        options.Cookie.Name = TokenCookie;
        options.Cookie.Path = ConsoleRoutes.Prefix;
        options.Cookie.HttpOnly = true;
        options.Cookie.SameSite = SameSiteMode.Strict;
        options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        // The console's own headers deny all framing; the antiforgery default (SAMEORIGIN) would contradict them.
        options.SuppressXFrameOptionsHeader = true;
    }

    /// <summary>Registers the headers for every /console answer, whoever writes it (the page, a challenge, an error, the rate limiter).</summary>
    public static IApplicationBuilder UseSecurityHeaders(IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            if (context.Request.Path.StartsWithSegments(ConsoleRoutes.Prefix))
                context.Response.OnStarting(static state =>
                {
                    var headers = ((HttpContext)state).Response.Headers;
                    headers.ContentSecurityPolicy = ContentSecurityPolicy;
                    headers.XContentTypeOptions = "nosniff";
                    headers.XFrameOptions = "DENY";
                    headers["Referrer-Policy"] = "same-origin";
                    headers["Cross-Origin-Opener-Policy"] = "same-origin";
                    headers["Cross-Origin-Resource-Policy"] = "same-origin";
                    // Pages hold a user's data and tokens: never kept. The assets set their own (revalidated) caching.
                    if (headers.CacheControl.Count == 0) headers.CacheControl = "no-store";
                    return Task.CompletedTask;
                }, context);
            return next(context);
        });

    /// <summary>
    /// Endpoint filter for every console request that changes something: refused (403) unless it carries the
    /// antiforgery token of a console page, in the <see cref="TokenHeader"/> header or the <see cref="TokenField"/>
    /// field, matching the token cookie and the signed-in user. Another site can neither read the token nor set the
    /// header, and the SameSite=Strict cookies do not even reach the gateway from it.
    /// </summary>
    public static async ValueTask<object?> RequireAntiforgeryAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        // The token may be read from the form, which buffers the body: forms here are small, so keep them so.
        if (context.Request.HasFormContentType && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = MaxFormBytes;
        try
        {
            await context.RequestServices.GetRequiredService<IAntiforgery>().ValidateRequestAsync(context);
        }
        catch (AntiforgeryValidationException)
        {
            throw new DfsProblemException(StatusCodes.Status403Forbidden, "Not from a console page",
                "This request did not come from a page of the console (its antiforgery token is missing, stale or for another user). "
                + "Reload the page and try again.");
        }
        return await next(invocation);
    }

    /// <summary>
    /// Endpoint filter for the whole console: a refusal (bad path, missing file, no access, quota, node down) is a
    /// page that says so with the problem's status; for the console's scripts (Accept: application/json) it stays
    /// the problem details the API answers with.
    /// </summary>
    public static async ValueTask<object?> RenderErrorsAsync(EndpointFilterInvocationContext invocation, EndpointFilterDelegate next)
    {
        var context = invocation.HttpContext;
        try
        {
            return await next(invocation);
        }
        catch (DfsProblemException e) when (!context.Response.HasStarted && !ConsoleSession.WantsJson(context.Request))
        {
            return ConsoleHtml.ErrorPage(context, e.Status, e.Title, e.Message, Back(context), "Back");
        }
        catch (BadHttpRequestException e) when (!context.Response.HasStarted && !ConsoleSession.WantsJson(context.Request))
        {
            // A body over its limit (413), cut short, or a form that does not parse.
            return ConsoleHtml.ErrorPage(context, e.StatusCode, "Bad request", e.Message, Back(context), "Back");
        }
    }

    /// <summary>Where an error page leads: the page the browser came from when it is one of ours, else the cluster.</summary>
    private static string Back(HttpContext context)
    {
        var referer = context.Request.GetTypedHeaders().Referer;
        if (referer is not null && referer.IsAbsoluteUri
            && string.Equals(referer.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)
            && ConsoleRoutes.IsConsoleUrl(referer.PathAndQuery))
            return referer.PathAndQuery;
        return ConsoleRoutes.Cluster;
    }
}
