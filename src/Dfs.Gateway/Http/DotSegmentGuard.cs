using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.Http;

/// <summary>
/// Refuses '.' and '..' segments in the request target of /api requests, literal or percent-encoded. Kestrel
/// decodes %2E and collapses dot segments before routing, so the endpoint a request reaches is not the one its
/// target names. <see cref="PathBinding"/> sees the raw target of a path that stays under its route, but not
/// "/x/%2E%2E/api/files/b" (which reaches PUT /api/files as /b) nor "/api/x/%2E%2E/move" (another endpoint) nor
/// one that collapses out of /api. Only the raw target still shows what was sent, so it is checked here, for
/// every /api request, before any endpoint runs.
/// </summary>
internal static class DotSegmentGuard
{
    private const string Api = "/api";

    public static IApplicationBuilder UseDotSegmentRefusal(this IApplicationBuilder app) =>
        app.Use((context, next) =>
        {
            var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
            if (string.IsNullOrEmpty(raw)) return next(context);
            var path = PathOf(raw);
            var api = context.Request.PathBase.Add(Api).Value!;
            // Either side may be the one under /api: the collapse can move a request into /api as well as out of it.
            if (!context.Request.Path.StartsWithSegments(Api, StringComparison.OrdinalIgnoreCase)
                && !path.Equals(api, StringComparison.OrdinalIgnoreCase) && !path.StartsWith(api + "/", StringComparison.OrdinalIgnoreCase))
                return next(context);
            if (DotSegment(path) is { } segment)
                throw DfsProblemException.BadRequest("Invalid path", $"The path has a '{segment}' segment.");
            return next(context);
        });

    /// <summary>The '.' or '..' segment of <paramref name="path"/>, as it decodes; null when there is none.</summary>
    internal static string? DotSegment(string path)
    {
        foreach (var segment in path.Split('/'))
        {
            var decoded = segment.Replace("%2E", ".", StringComparison.OrdinalIgnoreCase);
            if (decoded is "." or "..") return decoded;
        }
        return null;
    }

    /// <summary>The path of a raw target: origin-form as is, absolute-form ("http://host/path") without scheme and authority, no query.</summary>
    private static string PathOf(string raw)
    {
        var query = raw.IndexOf('?');
        if (query >= 0) raw = raw[..query];
        if (raw.Length > 0 && raw[0] != '/')
        {
            var scheme = raw.IndexOf("://", StringComparison.Ordinal);
            if (scheme < 0) return raw == "*" ? "" : raw;
            var slash = raw.IndexOf('/', scheme + 3);
            raw = slash < 0 ? "" : raw[slash..];
        }
        return raw;
    }
}
