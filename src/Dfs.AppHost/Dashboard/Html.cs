using System.Globalization;
using System.Net;
using System.Text;
using Dfs.AppHost.Hosting;
using Dfs.Contracts.Paths;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.AppHost.Dashboard;

/// <summary>
/// The pages' shared parts: layout, styles, the script helpers every page uses, formatting. Everything
/// rendered from data goes through <see cref="E"/>; nothing is loaded from outside (the dashboard is
/// loopback only and must work offline).
/// </summary>
internal static class Html
{
    public const string NonceKey = "dfs-csp-nonce";

    /// <summary>HTML-encodes text for element content and quoted attribute values.</summary>
    public static string E(string? text) => WebUtility.HtmlEncode(text ?? "");

    public static string E(long value) => value.ToString(CultureInfo.InvariantCulture);

    public static IResult Page(HttpContext context, string title, string? nav, string body, string? script = null, int status = StatusCodes.Status200OK)
    {
        var nonce = context.Items[NonceKey] as string ?? "";
        var html = new StringBuilder(8192);
        html.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        html.Append("<link rel=\"icon\" href=\"data:,\">");
        html.Append("<title>").Append(E(title)).Append(" · Dfs</title><style>").Append(Css).Append("</style></head>");
        html.Append("<body data-page=\"").Append(E(nav ?? "login")).Append("\"><header class=\"top\"><a class=\"brand\" href=\"/\">Dfs</a>");
        if (nav is not null)
        {
            var app = context.RequestServices.GetRequiredService<DfsApplication>();
            html.Append("<nav>");
            NavLink(html, "resources", "/", "Resources", nav);
            NavLink(html, "cluster", "/cluster", "Cluster", nav);
            NavLink(html, "files", "/files", "Files", nav);
            html.Append("</nav><span class=\"meta\" id=\"app-meta\">profile ").Append(E(app.Profile))
                .Append(" · ").Append(E(app.StateDirectory)).Append("</span>");
            html.Append("<form method=\"post\" action=\"/logout\" class=\"logout\"><button type=\"submit\" class=\"link\" id=\"logout\">Sign out</button></form>");
        }
        html.Append("</header><main id=\"main\">");
        html.Append("<div id=\"message\" class=\"message\" role=\"status\" hidden></div>");
        html.Append(body);
        html.Append("</main><script nonce=\"").Append(E(nonce)).Append("\">").Append(CommonScript);
        if (script is not null) html.Append('\n').Append(script);
        html.Append("</script></body></html>");
        return Results.Content(html.ToString(), "text/html; charset=utf-8", Encoding.UTF8, status);
    }

    /// <summary>A page that only says something went wrong (or is missing), with a way back.</summary>
    public static IResult ErrorPage(HttpContext context, string nav, string title, string detail, int status, string backHref, string backText) =>
        Page(context, title, nav,
            $"<h1>{E(title)}</h1><p class=\"notice error\" id=\"error\">{E(detail)}</p><p><a href=\"{E(backHref)}\">{E(backText)}</a></p>",
            status: status);

    private static void NavLink(StringBuilder html, string id, string href, string text, string active) =>
        html.Append("<a id=\"nav-").Append(id).Append("\" href=\"").Append(href).Append('"')
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
        return unit == 0 ? $"{bytes} B" : value.ToString(value < 10 ? "0.0#" : value < 100 ? "0.0" : "0", CultureInfo.InvariantCulture) + " " + units[unit];
    }

    public static string Duration(TimeSpan span)
    {
        if (span < TimeSpan.Zero) span = TimeSpan.Zero;
        if (span.TotalDays >= 1) return $"{(int)span.TotalDays}d {span.Hours:00}h";
        if (span.TotalHours >= 1) return $"{(int)span.TotalHours}h {span.Minutes:00}m";
        if (span.TotalMinutes >= 1) return $"{(int)span.TotalMinutes}m {span.Seconds:00}s";
        return $"{(int)span.TotalSeconds}s";
    }

    public static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string Timestamp(DateTime utc) =>
        DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    /// <summary>The file browser at a path (a directory listing, or a file's details).</summary>
    public static string FilesHref(string path, string? cursor = null) =>
        "/files?path=" + Uri.EscapeDataString(path) + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));

    /// <summary>The dashboard's streaming download of a file.</summary>
    public static string DownloadHref(string path) => "/api/files/" + DfsPath.ToUrlPath(path);

    private const string Css = """
        :root { --fg: #1d232b; --muted: #5f6b7a; --line: #dde2e8; --bg: #f6f7f9; --card: #fff; --accent: #2f5bd3;
                --ok: #17803d; --warn: #b26a00; --bad: #c4262e; --idle: #6b7480; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
        header.top { display: flex; align-items: center; gap: 20px; padding: 10px 20px; background: #1f2733; color: #e8ecf1; }
        header.top a { color: #e8ecf1; text-decoration: none; }
        .brand { font-weight: 700; font-size: 18px; letter-spacing: .5px; }
        header.top nav { display: flex; gap: 4px; }
        header.top nav a { padding: 6px 12px; border-radius: 6px; }
        header.top nav a:hover { background: #34405180; }
        header.top nav a.active { background: #3a4a61; }
        .meta { margin-left: auto; color: #aab4c1; font-size: 12px; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; max-width: 45vw; }
        form.logout { margin: 0; }
        button.link { background: none; border: none; color: #aab4c1; cursor: pointer; padding: 0; font: inherit; }
        main { padding: 20px; max-width: 1400px; margin: 0 auto; }
        h1 { font-size: 20px; margin: 0 0 14px; }
        h2 { font-size: 16px; margin: 22px 0 10px; }
        a { color: var(--accent); }
        code, .mono, pre { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
        table { border-collapse: collapse; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
        th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
        th { background: #eef1f5; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .4px; color: var(--muted); }
        tr:last-child td { border-bottom: none; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .toolbar { display: flex; flex-wrap: wrap; align-items: center; gap: 10px; margin: 0 0 14px; }
        .toolbar .spacer { flex: 1; }
        button { font: inherit; padding: 4px 11px; border-radius: 6px; border: 1px solid #c3cad4; background: #fff; cursor: pointer; color: var(--fg); }
        button:hover:not(:disabled) { border-color: var(--accent); color: var(--accent); }
        button:disabled { opacity: .45; cursor: default; }
        button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
        button.primary:hover:not(:disabled) { color: #fff; filter: brightness(1.1); }
        button.danger:hover:not(:disabled) { border-color: var(--bad); color: var(--bad); }
        input[type=text], input[type=search], input[type=password] { font: inherit; padding: 5px 9px; border: 1px solid #c3cad4; border-radius: 6px; min-width: 240px; }
        .badge { display: inline-block; padding: 1px 9px; border-radius: 999px; font-size: 12px; font-weight: 600; background: #e6e9ee; color: var(--idle); }
        .state-running, .node-live, .health-healthy { background: #dcf3e3; color: var(--ok); }
        .state-starting, .state-stopping, .node-suspect, .draining { background: #fff1d6; color: var(--warn); }
        .state-unhealthy, .health-unhealthy { background: #ffe6cc; color: #a34d00; }
        .state-exited, .state-failed, .node-dead { background: #fde0e1; color: var(--bad); }
        .state-stopped, .state-not-started { background: #e6e9ee; color: var(--idle); }
        .muted { color: var(--muted); }
        .message { margin: 0 0 14px; padding: 9px 12px; border-radius: 6px; background: #e7eefc; border: 1px solid #c7d6f7; }
        .message.error, .notice.error { background: #fde8e9; border-color: #f3b9bc; color: #8c1a20; }
        .message.ok { background: #e3f5e8; border-color: #b6e2c3; color: #145c2c; }
        .notice { padding: 12px 14px; border-radius: 8px; background: #fff7e0; border: 1px solid #f0d58c; margin: 0 0 14px; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; }
        .card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .4px; }
        .card .value { font-size: 20px; font-weight: 600; font-variant-numeric: tabular-nums; }
        .card.bad .value { color: var(--bad); }
        meter { width: 160px; height: 14px; vertical-align: middle; }
        .logbox { background: #151a21; color: #d7dde5; border-radius: 8px; padding: 10px 0; height: 70vh; overflow: auto; }
        .logbox .line { padding: 0 12px; white-space: pre-wrap; word-break: break-all; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace; font-size: 12.5px; }
        .logbox .line:hover { background: #232a34; }
        .logbox mark { background: #f5d04c; color: #151a21; border-radius: 2px; }
        .breadcrumb { margin: 0 0 12px; font-size: 15px; }
        .breadcrumb a { text-decoration: none; }
        .breadcrumb .sep { color: var(--muted); margin: 0 4px; }
        dl.details { display: grid; grid-template-columns: max-content 1fr; gap: 6px 16px; background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 16px; margin: 0 0 14px; }
        dl.details dt { color: var(--muted); }
        dl.details dd { margin: 0; word-break: break-all; }
        .node { display: inline-block; margin: 1px 6px 1px 0; }
        section.login { max-width: 460px; margin: 60px auto; background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 24px; }
        section.login form { display: flex; gap: 8px; align-items: center; flex-wrap: wrap; }
        .removal { font-size: 12px; margin-left: 6px; }
        .actions { white-space: nowrap; }
        .actions button { margin-right: 4px; }
        """;

    /// <summary>fetch with problem details turned into errors, the message bar, DOM building, formatting.</summary>
    private const string CommonScript = """
        "use strict";
        const dfs = (() => {
          function message(text, kind) {
            const box = document.getElementById('message');
            if (!box) return;
            box.textContent = text || '';
            box.className = 'message' + (kind ? ' ' + kind : '');
            box.hidden = !text;
          }
          async function call(method, url, body, headers) {
            const response = await fetch(url, {
              method, body, cache: 'no-store', credentials: 'same-origin',
              headers: Object.assign({ 'Accept': 'application/json', 'X-Dfs-Dashboard': '1' }, headers || {})
            });
            if (response.status === 401) {
              location.href = '/login?returnUrl=' + encodeURIComponent(location.pathname + location.search);
              throw new Error('The dashboard session has ended: sign in again.');
            }
            const type = response.headers.get('content-type') || '';
            const data = type.includes('json') ? await response.json() : null;
            if (!response.ok) {
              const problem = data || {};
              throw new Error(problem.detail || problem.title || (response.status + ' ' + response.statusText));
            }
            return data;
          }
          function el(tag, attributes, ...children) {
            const element = document.createElement(tag);
            for (const [key, value] of Object.entries(attributes || {})) {
              if (value === null || value === undefined || value === false) continue;
              if (key === 'text') element.textContent = value;
              else element.setAttribute(key, value === true ? '' : String(value));
            }
            for (const child of children.flat()) {
              if (child === null || child === undefined) continue;
              element.append(child instanceof Node ? child : document.createTextNode(String(child)));
            }
            return element;
          }
          function duration(seconds) {
            if (seconds === null || seconds === undefined) return '';
            const s = Math.max(0, Math.floor(seconds));
            const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60, r = s % 60;
            const two = n => String(n).padStart(2, '0');
            if (d > 0) return d + 'd ' + two(h) + 'h';
            if (h > 0) return h + 'h ' + two(m) + 'm';
            if (m > 0) return m + 'm ' + two(r) + 's';
            return r + 's';
          }
          function urlPath(path) {
            return path.split('/').filter(s => s.length > 0).map(encodeURIComponent).join('/');
          }
          return { message, call, el, duration, urlPath };
        })();
        """;
}
