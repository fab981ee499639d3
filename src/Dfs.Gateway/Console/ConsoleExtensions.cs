using Microsoft.AspNetCore.DataProtection;

namespace Dfs.Gateway.Console;

/// <summary>
/// The web console: Dfs's own product UI served by the gateway under /console, like HDFS's NameNode page or
/// MinIO's console. Server-rendered pages over the gateway's services (never HTTP calls to itself), signed in
/// with the API's users and tokens, refused what the API would refuse.
/// </summary>
public static class ConsoleExtensions
{
    public static WebApplicationBuilder AddConsole(this WebApplicationBuilder builder)
    {
        builder.Services.AddAntiforgery(ConsoleSecurity.ConfigureAntiforgery);
        // Antiforgery tokens are sealed with Data Protection keys. A fixed application name (instead of the default,
        // the install folder) lets gateways that share a key ring read each other's tokens.
        builder.Services.AddDataProtection().SetApplicationName("dfs-gateway");
        return builder;
    }

    /// <summary>Security headers on every /console answer; before authentication, so its redirects and refusals get them too.</summary>
    public static IApplicationBuilder UseConsoleSecurityHeaders(this IApplicationBuilder app) => ConsoleSecurity.UseSecurityHeaders(app);

    /// <summary>
    /// Every console route needs a session (the cookie, or an Authorization header as on the API) except the sign-in
    /// page and the stylesheet and script; none of them is in the OpenAPI document.
    /// </summary>
    public static WebApplication MapConsole(this WebApplication app)
    {
        var console = app.MapGroup(ConsoleRoutes.Prefix).ExcludeFromDescription().RequireAuthorization()
            .AddEndpointFilter(ConsoleSecurity.RenderErrorsAsync);
        console.MapConsoleAssets()
            .MapConsoleSignIn()
            .MapClusterPage()
            .MapFileBrowser()
            .MapAccessKeysPage();
        console.MapGet("/{**rest}", (string? rest, HttpContext context) =>
            ConsoleHtml.ErrorPage(context, StatusCodes.Status404NotFound, "Not found", $"The console has no page /console/{rest}."));
        return app;
    }
}
