using System.CommandLine;
using Dfs.Cli.Shell;

namespace Dfs.Cli.Commands;

internal static class ShellCommand
{
    public static Command Create(CliSession session)
    {
        var command = new Command("shell", "Interactive shell with a current folder, relative paths, help and history; reads commands from stdin until EOF.");
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            if (session.InShell) throw new CliException(ExitCodes.Usage, "already in the shell");
            session.GatewayOverride = parse.GetValue(session.Globals.Gateway);
            return await new Repl(session).RunAsync(ct);
        });
        return command;
    }
}
