using Dfs.Contracts.Cluster;

namespace Dfs.Cli.Configuration;

/// <summary>Where the gateway URL came from; shown in errors so a stale setting is easy to spot.</summary>
public sealed record GatewayEndpoint(Uri Url, string Source);

/// <summary>Finds the gateway: --gateway, then $DFS_GATEWAY, then cluster.json in the state folder.</summary>
public static class GatewayLocator
{
    public const string GatewayVariable = "DFS_GATEWAY";
    public const string StateDirectoryVariable = "DFS_STATE_DIR";

    public const string NoGatewayMessage =
        "no gateway: pass --gateway, set DFS_GATEWAY, or start a cluster with `dotnet run --project src/Dfs.AppHost`";

    public static GatewayEndpoint Locate(string? flag, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(flag)) return new(Parse(flag, "--gateway"), "--gateway");

        if (environment(GatewayVariable) is { } fromEnvironment && !string.IsNullOrWhiteSpace(fromEnvironment))
            return new(Parse(fromEnvironment, GatewayVariable), GatewayVariable);

        var stateDirectory = StateDirectory(environment);
        if (ClusterFile.TryRead(stateDirectory)?.Gateway is { Length: > 0 } fromCluster)
        {
            var source = Path.Combine(stateDirectory, ClusterFile.FileName);
            return new(Parse(fromCluster, source), source);
        }

        throw new CliException(ExitCodes.Unreachable, NoGatewayMessage);
    }

    /// <summary>The AppHost's default state folder, honouring DFS_STATE_DIR as seen through <paramref name="environment"/>.</summary>
    public static string StateDirectory(Func<string, string?> environment) =>
        environment(StateDirectoryVariable) is { Length: > 0 } dir ? dir : ClusterFile.DefaultStateDirectory;

    private static Uri Parse(string value, string source)
    {
        if (Uri.TryCreate(value.Trim(), UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            return uri;
        throw new CliException(ExitCodes.Usage, $"invalid gateway URL '{value}' (from {source}): expected http://host:port");
    }
}
