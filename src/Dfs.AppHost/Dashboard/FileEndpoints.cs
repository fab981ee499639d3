using Dfs.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Dfs.AppHost.Dashboard;

/// <summary>
/// Files through the dashboard (/api/files, /api/dirs): the browser cannot reach the gateway's port with
/// the dashboard's session, so these stream bodies through in both directions, never holding a file.
/// Paths are passed on exactly as the client encoded them; the gateway judges them.
/// </summary>
internal static class FileEndpoints
{
    public static WebApplication MapFileEndpoints(this WebApplication web)
    {
        web.MapPut("/api/files/{**path}", (string? path, HttpContext context, GatewayAccess gateway) =>
            ForwardAsync(context, gateway, HttpMethod.Put, ApiRoutes.Files, path, decorate: null));
        web.MapMethods("/api/files/{**path}", [HttpMethods.Get, HttpMethods.Head], (string? path, HttpContext context, GatewayAccess gateway) =>
            ForwardAsync(context, gateway, context.Request.Method == HttpMethods.Head ? HttpMethod.Head : HttpMethod.Get, ApiRoutes.Files, path,
                response => response.Headers.ContentDisposition = Attachment(path)));
        web.MapPut("/api/dirs/{**path}", (string? path, HttpContext context, GatewayAccess gateway) =>
            ForwardAsync(context, gateway, HttpMethod.Put, ApiRoutes.Dirs, path, decorate: null));
        return web;
    }

    private static async Task ForwardAsync(HttpContext context, GatewayAccess gateway, HttpMethod method, string route, string? path, Action<HttpResponse>? decorate)
    {
        if (gateway.Unavailable() is { } why)
        {
            await Results.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Gateway not running", detail: why).ExecuteAsync(context);
            return;
        }
        if (!TryRawPath(context, route, path, out var rawPath))
        {
            await Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid path",
                detail: "A path cannot contain '.' or '..' segments.").ExecuteAsync(context);
            return;
        }
        try
        {
            await gateway.ForwardAsync(context, method, route + "/" + rawPath + context.Request.QueryString, decorate);
        }
        catch (HttpRequestException e) when (!context.Response.HasStarted)
        {
            await Results.Problem(statusCode: StatusCodes.Status502BadGateway, title: "Gateway unreachable",
                detail: $"The gateway did not answer: {e.Message}").ExecuteAsync(context);
        }
        catch (Exception e) when (e is HttpRequestException or IOException && context.Response.HasStarted)
        {
            // Bytes already went out: cut the connection so the client sees a failed transfer, not a short file.
            context.Abort();
        }
    }

    /// <summary>
    /// The path below the route as the client percent-encoded it (from the raw request target: the decoded path
    /// would turn %2F into '/'). Dot segments are refused here: they would be collapsed on the way to the gateway
    /// and could name another route.
    /// </summary>
    internal static bool TryRawPath(HttpContext context, string route, string? routeValue, out string rawPath)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        string rest;
        if (!string.IsNullOrEmpty(raw) && raw.StartsWith(route, StringComparison.OrdinalIgnoreCase))
        {
            var query = raw.IndexOf('?');
            rest = (query >= 0 ? raw[..query] : raw)[route.Length..].Trim('/');
        }
        else
        {
            rest = string.Join('/', (routeValue ?? "").Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));
        }
        rawPath = rest;
        return rest.Split('/').All(segment => Uri.UnescapeDataString(segment) is not ("." or ".."));
    }

    private static string Attachment(string? path)
    {
        var name = (path ?? "").TrimEnd('/');
        name = name[(name.LastIndexOf('/') + 1)..];
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(name.Length > 0 ? name : "download");
        return disposition.ToString();
    }
}
