using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;

namespace Dfs.Gateway.Http;

public static class ProblemsExtensions
{
    /// <summary>
    /// Every refusal as RFC 9457 problem details with a reason. Outside Development the framework answers a body it
    /// cannot bind (malformed JSON, a wrong type) with a bare 400 and only logs the reason; thrown instead, the reason
    /// reaches <see cref="DfsProblemExceptionHandler"/> and so the client.
    /// </summary>
    public static IServiceCollection AddDfsProblems(this IServiceCollection services)
    {
        services.AddExceptionHandler<DfsProblemExceptionHandler>();
        services.PostConfigure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.Configure<ProblemDetailsOptions>(o =>
        {
            var previous = o.CustomizeProblemDetails;
            o.CustomizeProblemDetails = context =>
            {
                previous?.Invoke(context);
                // Routing refuses a Content-Type an endpoint does not accept with a bare 415, which status code pages turn
                // into a problem without a reason. Every endpoint here that takes a structured body takes JSON.
                if (context.ProblemDetails.Status == StatusCodes.Status415UnsupportedMediaType && context.ProblemDetails.Detail is null)
                    context.ProblemDetails.Detail = JsonOnly(context.HttpContext.Request.ContentType);
            };
        });
        return services;
    }

    internal static string JsonOnly(string? contentType) => contentType is null
        ? "The body must be JSON, sent with Content-Type: application/json (this request has no Content-Type)."
        : $"The body must be JSON, sent with Content-Type: application/json (not {contentType}).";
}
