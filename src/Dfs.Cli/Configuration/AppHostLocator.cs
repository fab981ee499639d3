using Dfs.Contracts.Cluster;

namespace Dfs.Cli.Configuration;

/// <summary>The AppHost's API (its dashboard) and the token it wants; where they came from, for error messages.</summary>
public sealed record AppHostEndpoint(Uri Url, string Token, string Source);

/// <summary>Finds the AppHost: --apphost with $DFS_DASHBOARD_TOKEN, else the dashboard and token in cluster.json.</summary>
public static class AppHostLocator
{
    public const string TokenVariable = "DFS_DASHBOARD_TOKEN";

    public const string NoAppHostMessage =
        "no AppHost: start a cluster with `dotnet run --project src/Dfs.AppHost` (its cluster.json tells dfs where the dashboard is), " +
        "or pass --apphost URL with the token in DFS_DASHBOARD_TOKEN";

    public static AppHostEndpoint Locate(string? flag, Func<string, string?> environment)
    {
        var token = environment(TokenVariable);
        if (!string.IsNullOrWhiteSpace(flag))
        {
            if (string.IsNullOrWhiteSpace(token))
                throw new CliException(ExitCodes.Usage, $"--apphost needs the dashboard token in {TokenVariable} (the AppHost prints it at start)");
            return new(Parse(flag, "--apphost"), token.Trim(), "--apphost");
        }

        var stateDirectory = GatewayLocator.StateDirectory(environment);
        var file = ClusterFile.TryRead(stateDirectory);
        if (file?.Dashboard is { Length: > 0 } dashboard)
        {
            var source = Path.Combine(stateDirectory, ClusterFile.FileName);
            var fileToken = string.IsNullOrWhiteSpace(token) ? file.DashboardToken : token.Trim();
            if (string.IsNullOrEmpty(fileToken))
                throw new CliException(ExitCodes.Usage, $"{source} names no dashboard token; set {TokenVariable}");
            return new(Parse(dashboard, source), fileToken, source);
        }
        if (file is not null)
            throw new CliException(ExitCodes.Unreachable, "the running AppHost serves no dashboard (it was started with --no-dashboard), so it cannot be controlled from dfs");
        throw new CliException(ExitCodes.Unreachable, NoAppHostMessage);
    }

    private static Uri Parse(string value, string source)
    {
        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return uri;
        throw new CliException(ExitCodes.Usage, $"invalid AppHost URL '{value}' (from {source}): expected http://host:port");
    }
}
