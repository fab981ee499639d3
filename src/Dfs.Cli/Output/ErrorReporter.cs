using System.Net;
using System.Net.Sockets;
using Dfs.Cli.Configuration;
using Dfs.Cli.Remote;
using Dfs.Contracts.Clients;

namespace Dfs.Cli.Output;

/// <summary>The one place that turns a failure into a message on stderr and an exit code.</summary>
internal static class ErrorReporter
{
    public static int Report(Exception exception, CliOutput output, GatewayEndpoint? gateway, GatewayCredential? credential, CancellationToken ct)
    {
        var (code, message) = Classify(exception, gateway, credential, ct);
        output.Error(message);
        return code;
    }

    public static (int Code, string Message) Classify(Exception exception, GatewayEndpoint? gateway, GatewayCredential? credential, CancellationToken ct) => exception switch
    {
        CliException cli => (cli.ExitCode, cli.Message),
        OperationCanceledException when ct.IsCancellationRequested => (ExitCodes.Canceled, "canceled"),
        DfsApiException { StatusCode: HttpStatusCode.Unauthorized } api => (ExitCodes.Unauthenticated, Unauthenticated(api, credential)),
        DfsApiException { IsQuotaExceeded: true } api => (ExitCodes.Error, $"quota exceeded: {Describe(api)}"),
        DfsApiException api => (CodeFor(api.StatusCode), Describe(api)),
        TransferInterruptedException interrupted => (ExitCodes.Integrity, interrupted.Message),
        HttpRequestException or HttpIOException or TimeoutException or OperationCanceledException =>
            (ExitCodes.Unreachable, $"cannot reach the gateway{At(gateway)}: {Describe(exception)}"),
        UnauthorizedAccessException or IOException => (ExitCodes.Error, exception.Message),
        _ => (ExitCodes.Error, $"unexpected error: {exception.GetType().Name}: {exception.Message}"),
    };

    public static int CodeFor(HttpStatusCode status) => (int)status switch
    {
        401 => ExitCodes.Unauthenticated,
        403 => ExitCodes.Forbidden,
        404 => ExitCodes.NotFound,
        409 => ExitCodes.Conflict,
        >= 400 and < 500 => ExitCodes.BadRequest,
        _ => ExitCodes.Error,
    };

    /// <summary>A short description of a failure, without the gateway address.</summary>
    public static string Describe(Exception exception) => exception switch
    {
        DfsApiException api => DescribeProblem(api),
        HttpRequestException { InnerException: SocketException socket } => socket.Message,
        HttpRequestException http when http.InnerException is not null && http.InnerException is not IOException => http.InnerException.Message,
        OperationCanceledException => "the request timed out",
        _ => exception.Message,
    };

    public const string NotLoggedIn = "not logged in or the token expired/was revoked; run `dfs login`";

    /// <summary>The 401 message: what to do, the gateway's detail, and which credential was refused (a stale $DFS_TOKEN is not fixed by logging in).</summary>
    private static string Unauthenticated(DfsApiException api, GatewayCredential? credential)
    {
        var text = $"{NotLoggedIn}: {Describe(api)}";
        if (credential?.Note is { } note) text += $"; {note}";
        else if (credential?.Authorization is not null) text += $"; the credentials came from {credential.Source}";
        return text;
    }

    private static string DescribeProblem(DfsApiException api)
    {
        var problem = api.Problem;
        var text = problem?.Detail ?? problem?.Title;
        var status = $"{(int)api.StatusCode} {api.StatusCode}";
        return text is null ? api.Message : $"{text} ({status})";
    }

    private static string At(GatewayEndpoint? gateway) =>
        gateway is null ? "" : $" at {gateway.Url.GetLeftPart(UriPartial.Authority)} (from {gateway.Source})";
}
