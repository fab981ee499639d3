using System.CommandLine;

namespace Dfs.Cli.Commands;

internal sealed class GlobalOptions
{
    public Option<string?> Gateway { get; } = new("--gateway")
    {
        Description = "Gateway URL (default: $DFS_GATEWAY, then the gateway in cluster.json of the state folder).",
        HelpName = "url",
        Recursive = true,
    };
}
