using System.CommandLine;
using System.CommandLine.Invocation;
using Dfs.Cli.Commands;
using Dfs.Cli.Output;

namespace Dfs.Cli;

/// <summary>Entry point of `dfs`, usable in-process: parse, run, and map every failure to an exit code.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, CliEnvironment env, CancellationToken ct)
    {
        using var session = new CliSession(env);
        if (args.Length == 0)
        {
            // A bare `dfs` is a usage error, but the most useful answer to it is the help text.
            await InvokeAsync(session, ["--help"], ct);
            return ExitCodes.Usage;
        }
        return await InvokeAsync(session, args, ct);
    }

    internal static async Task<int> InvokeAsync(CliSession session, IReadOnlyList<string> args, CancellationToken ct)
    {
        var parse = session.Root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            if (parse.CommandResult.Command is RootCommand && parse.UnmatchedTokens.Count > 0)
                session.Output.Error($"unknown command '{parse.UnmatchedTokens[0]}'");
            else
                foreach (var error in parse.Errors) session.Output.Error(error.Message);
            var command = string.Join(' ', CommandPath(parse.CommandResult.Command));
            session.Output.Error(session.InShell
                ? command.Length == 0 ? "type 'help' for the commands" : $"type 'help {command}' for usage"
                : $"run '{("dfs " + command).TrimEnd()} --help' for usage");
            return ExitCodes.Usage;
        }

        try
        {
            var configuration = new InvocationConfiguration
            {
                Output = session.Env.Out,
                Error = session.Env.Error,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // Ctrl+C is handled by Program, which owns the process.
            };
            return await parse.InvokeAsync(configuration, ct);
        }
        catch (Exception e)
        {
            return Report(session, e, ct);
        }
    }

    internal static int Report(CliSession session, Exception exception, CancellationToken ct) =>
        ErrorReporter.Report(exception, session.Output, session.Gateway, session.Credential, ct);

    private static IEnumerable<string> CommandPath(Command command) =>
        command is RootCommand ? [] : command.Parents.OfType<Command>().SelectMany(CommandPath).Append(command.Name);
}
