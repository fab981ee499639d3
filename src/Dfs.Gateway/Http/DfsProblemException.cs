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
        if (exception is not DfsProblemException problem || context.Response.HasStarted) return false;
        context.Response.StatusCode = problem.Status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails = new ProblemDetails { Status = problem.Status, Title = problem.Title, Detail = problem.Message },
        });
    }
}
