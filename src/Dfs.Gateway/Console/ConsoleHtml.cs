using System.Globalization;
using System.Net;
using System.Text;
using Dfs.Gateway.Auth;
using Microsoft.AspNetCore.Antiforgery;

namespace Dfs.Gateway.Console;

/// <summary>
/// The pages' shared layout and formatting. Everything rendered from data goes through <see cref="E(string?)"/>;
/// styles and script come from <see cref="ConsoleRoutes.Assets"/> (the CSP allows nothing inline).
/// </summary>
internal static class ConsoleHtml
{
    public const string Html = "text/html; charset=utf-8";

    /// <summary>HTML-encodes text for element content and quoted attribute values.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string E(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A whole page: header with navigation and the signed-in user (none on the sign-in page), the message bar, the
    /// body. The request's antiforgery token goes in a meta tag for the scripts and in every form that posts.
    /// </summary>
    public static IResult Page(HttpContext context, string title, string? nav, string body, int status = StatusCodes.Status200OK)
    {
        var html = new StringBuilder(8192);
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<meta name=\"dfs-csrf\" content=\"").Append(E(RequestToken(context))).Append("\">");
        html.Append("<link rel=\"icon\" href=\"data:,\"><link rel=\"stylesheet\" href=\"").Append(ConsoleRoutes.Stylesheet).Append("\">");
        html.Append("<title>").Append(E(title)).Append(" · Dfs</title></head>");
        html.Append("<body data-page=\"").Append(E(nav ?? "login")).Append("\"><header class=\"top\"><a class=\"brand\" href=\"")
            .Append(ConsoleRoutes.Cluster).Append("\">Dfs</a>");
        if (nav is not null && Caller.FromPrincipal(context.User) is { } caller)
        {
            html.Append("<nav>");
            NavLink(html, "cluster", ConsoleRoutes.Cluster, "Cluster", nav);
            NavLink(html, "files", ConsoleRoutes.FilesAt(caller.IsAdmin ? "/" : caller.Home), "Files", nav);
            NavLink(html, "keys", ConsoleRoutes.Keys, "Access keys", nav);
            html.Append("</nav><span class=\"spacer\"></span><span class=\"user\" id=\"whoami\" data-user=\"").Append(E(caller.Name))
                .Append("\" data-admin=\"").Append(caller.IsAdmin ? "true" : "false").Append("\">").Append(E(caller.Name));
            if (caller.IsAdmin) html.Append(" <span class=\"badge\">admin</span>");
            html.Append("</span><form method=\"post\" action=\"").Append(ConsoleRoutes.Logout).Append("\" id=\"logout-form\" class=\"logout\">")
                .Append(TokenField(context)).Append("<button type=\"submit\" class=\"link\" id=\"logout\">Sign out</button></form>");
        }
        html.Append("</header><main id=\"main\">");
        html.Append("<div id=\"message\" class=\"message\" role=\"status\" hidden></div>");
        html.Append(body);
        html.Append("</main><script src=\"").Append(ConsoleRoutes.Script).Append("\"></script></body></html>");
        return Results.Content(html.ToString(), Html, Encoding.UTF8, status);
    }

    /// <summary>A page that only says what went wrong, with a way on.</summary>
    public static IResult ErrorPage(HttpContext context, int status, string title, string detail, string? backHref = null, string? backText = null)
    {
        var nav = Caller.FromPrincipal(context.User) is null ? null : "error";
        var body = new StringBuilder();
        body.Append("<h1>").Append(E(title)).Append("</h1><p class=\"notice error\" id=\"error\" data-status=\"").Append(E(status)).Append("\">")
            .Append(E(detail)).Append("</p><p><a id=\"error-back\" href=\"").Append(E(backHref ?? ConsoleRoutes.Cluster)).Append("\">")
            .Append(E(backText ?? "Back to the cluster")).Append("</a></p>");
        return Page(context, title, nav, body.ToString(), status);
    }

    /// <summary>303 See Other: after a form post, the browser goes on with a GET (a reload does not post again).</summary>
    public static IResult SeeOther(string location) => new SeeOtherResult(location);

    private sealed record SeeOtherResult(string Location) : IResult
    {
        public Task ExecuteAsync(HttpContext context)
        {
            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            context.Response.Headers.Location = Location;
            return Task.CompletedTask;
        }
    }

    /// <summary>The hidden field a posting form carries its antiforgery token in.</summary>
    public static string TokenField(HttpContext context) =>
        $"<input type=\"hidden\" name=\"{ConsoleSecurity.TokenField}\" value=\"{E(RequestToken(context))}\">";

    /// <summary>The request's antiforgery token, made once per request (and its cookie set when the browser has none).</summary>
    private static string RequestToken(HttpContext context)
    {
        if (context.Items[typeof(AntiforgeryTokenSet)] is AntiforgeryTokenSet cached) return cached.RequestToken ?? "";
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        context.Items[typeof(AntiforgeryTokenSet)] = tokens;
        return tokens.RequestToken ?? "";
    }

    private static void NavLink(StringBuilder html, string id, string href, string text, string active) =>
        html.Append("<a id=\"nav-").Append(id).Append("\" href=\"").Append(E(href)).Append('"')
            .Append(id == active ? " class=\"active\" aria-current=\"page\"" : "").Append('>').Append(text).Append("</a>");

    public static string Bytes(long bytes)
    {
        if (bytes < 0) return "—";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0
            ? bytes.ToString(CultureInfo.InvariantCulture) + " B"
            : value.ToString(value < 10 ? "0.0#" : value < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Timestamp(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>A database time as UTC whatever kind the provider handed back (SQLite: unspecified).</summary>
    public static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };
}
