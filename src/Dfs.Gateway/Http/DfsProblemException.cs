using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace Dfs.Gateway.Http;

/// <summary>A client-visible failure with its HTTP status; turned into RFC 9457 problem details.</summary>
public sealed class DfsProblemException(int status, string title, string detail) : Exception(detail)
{
    public int Status { get; } = status;
    public string Title { get; } = title;

    public static DfsProblemException NotFound(string path) => new(StatusCodes.Status404NotFound, "Not found", $"'{path}' does not exist.");
    public static DfsProblemException Conflict(string detail) => new(StatusCodes.Status409Conflict, "Conflict", detail);
    public static DfsProblemException BadRequest(string title, string detail) => new(StatusCodes.Status400BadRequest, title, detail);
}

internal sealed class DfsProblemExceptionHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken ct)
    {
        if (context.Response.HasStarted) return false;
        var (status, title, detail) = exception switch
        {
            DfsProblemException p => (p.Status, p.Title, p.Message),
            // The framework's own 4xx (thrown in every environment, see AddDfsProblems): a body that is not the JSON
            // the endpoint takes, a body that is not JSON at all, a bad route or query value, a body cut short.
            BadHttpRequestException { InnerException: JsonException json } b =>
                (b.StatusCode, "Invalid JSON", $"The body is not the JSON this request takes: {json.Message}"),
            BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } b =>
                (b.StatusCode, "Unsupported Media Type", ProblemsExtensions.JsonOnly(context.Request.ContentType)),
            BadHttpRequestException b => (b.StatusCode, "Bad request", b.InnerException?.Message ?? b.Message),
            _ => (0, "", ""),
        };
        if (status == 0) return false;
        context.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }
}
