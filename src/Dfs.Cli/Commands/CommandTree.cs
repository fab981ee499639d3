using System.CommandLine;
using System.Text;
using Dfs.Cli.Configuration;

namespace Dfs.Cli.Commands;

/// <summary>Builds the command tree once; the top-level CLI and the shell both dispatch to it.</summary>
internal static class CommandTree
{
    public static RootCommand Build(CliSession session)
    {
        var root = new RootCommand(Description());
        root.Add(session.Globals.Gateway);
        root.Add(PutCommand.Create(session));
        root.Add(GetCommand.Create(session));
        root.Add(LsCommand.Create(session));
        root.Add(TreeCommand.Create(session));
        root.Add(StatCommand.Create(session));
        root.Add(NamespaceCommands.Mkdir(session));
        root.Add(NamespaceCommands.Move(session));
        root.Add(NamespaceCommands.Remove(session));
        root.Add(NodesCommand.Create(session));
        root.Add(ClusterCommand.Create(session));
        root.Add(AuthCommands.Login(session));
        root.Add(AuthCommands.Logout(session));
        root.Add(AuthCommands.WhoAmI(session));
        root.Add(UserCommand.Create(session));
        root.Add(ShareCommand.Create(session));
        root.Add(ShellCommand.Create(session));
        return root;
    }

    private static string Description()
    {
        var text = new StringBuilder()
            .AppendLine("dfs: command-line client of the Dfs distributed file system (talks to the gateway's public API).")
            .AppendLine()
            .AppendLine($"Gateway: --gateway URL, else ${GatewayLocator.GatewayVariable}, else the gateway in cluster.json of the")
            .AppendLine($"state folder (${GatewayLocator.StateDirectoryVariable}, default ~/.local/share/dfs).")
            .AppendLine($"Credentials: ${Credentials.TokenVariable} (bearer token), else ${Credentials.UserVariable} + ${Credentials.PasswordVariable}, else the token")
            .AppendLine("`dfs login` saved for the gateway (in $XDG_CONFIG_HOME/dfs/credentials.json, default ~/.config/dfs).")
            .AppendLine("Remote paths are Dfs paths like /docs/a.txt; in `dfs shell` they may be relative to the current folder.")
            .AppendLine()
            .AppendLine("Exit codes:");
        foreach (var (code, meaning) in ExitCodes.All) text.AppendLine($"  {code,-3} {meaning}");
        return text.ToString().TrimEnd();
    }

    /// <summary>A one-line synopsis, e.g. "put <local> [<remote>] [options]", for the shell's `help`.</summary>
    public static string Synopsis(Command command)
    {
        var text = new StringBuilder(command.Name);
        foreach (var argument in command.Arguments)
            text.Append(argument.Arity.MinimumNumberOfValues == 0 ? $" [<{argument.Name}>]" : $" <{argument.Name}>");
        if (command.Options.Count > 0) text.Append(" [options]");
        return text.ToString();
    }
}
