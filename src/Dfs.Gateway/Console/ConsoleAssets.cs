using System.Security.Cryptography;
using Microsoft.Net.Http.Headers;

namespace Dfs.Gateway.Console;

/// <summary>
/// The console's stylesheet and script, embedded in the gateway (no files to deploy, no build step) and served
/// to anyone: the sign-in page needs them, and they hold no data.
/// </summary>
internal static class ConsoleAssets
{
    private sealed record Asset(byte[] Bytes, string ContentType, string ETag);

    private static readonly Lazy<Asset> Stylesheet = new(() => Load("console.css", "text/css; charset=utf-8"));
    private static readonly Lazy<Asset> Script = new(() => Load("console.js", "text/javascript; charset=utf-8"));

    public static RouteGroupBuilder MapConsoleAssets(this RouteGroupBuilder console)
    {
        console.MapGet("/assets/console.css", (HttpContext context) => Serve(context, Stylesheet.Value)).AllowAnonymous();
        console.MapGet("/assets/console.js", (HttpContext context) => Serve(context, Script.Value)).AllowAnonymous();
        return console;
    }

    private static IResult Serve(HttpContext context, Asset asset)
    {
        // Revalidated on every use, so a gateway upgrade's script reaches open browsers at their next page.
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.ETag = asset.ETag;
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(t => t.Tag == asset.ETag))
            return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(asset.Bytes, asset.ContentType);
    }

    private static Asset Load(string name, string contentType)
    {
        var resource = $"Dfs.Gateway.Console.Assets.{name}";
        using var stream = typeof(ConsoleAssets).Assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"The gateway was built without its console asset {resource}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var bytes = copy.ToArray();
        return new Asset(bytes, contentType, "\"" + Convert.ToHexStringLower(SHA256.HashData(bytes))[..16] + "\"");
    }
}
