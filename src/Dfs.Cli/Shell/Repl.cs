using Dfs.Cli.Commands;
using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;

namespace Dfs.Cli.Shell;

/// <summary>
/// `dfs shell`: reads lines (from a terminal or a pipe, until EOF), splits them with <see cref="ShellTokenizer"/> and
/// runs them through the same command tree as the top-level CLI, resolving relative paths against the current folder.
/// A failing command prints its error and the shell goes on; the shell's exit code is the last command's.
/// </summary>
internal sealed class Repl(CliSession session)
{
    private sealed record Builtin(string Name, string Synopsis, string Description);

    private static readonly Builtin[] Builtins =
    [
        new("cd", "cd [<folder>]", "Change the current folder (default: your home, or / when not logged in)."),
        new("pwd", "pwd", "Print the current folder."),
        new("history", "history", "List the commands typed in this session."),
        new("help", "help [<command>]", "List the commands, or show one command's usage."),
        new("exit", "exit [<code>]", "Leave the shell (also: quit, end of input)."),
        new("quit", "quit", "Leave the shell."),
    ];

    private readonly List<string> _history = [];

    public string Prompt => $"dfs:{session.CurrentDirectory}> ";

    public IReadOnlyList<string> History => _history;

    public async Task<int> RunAsync(CancellationToken ct)
    {
        var env = session.Env;
        session.InShell = true;
        if (env.IsInputInteractive) env.Out.WriteLine("Dfs shell. Type 'help' for the commands, 'exit' to leave.");

        var last = ExitCodes.Ok;
        while (true)
        {
            env.Out.Write(Prompt);
            env.Out.Flush();
            string? line;
            using (env.IsInputInteractive ? env.Interrupts.Claim(PromptInterrupted) : null)
                line = await env.In.ReadLineAsync(ct);
            if (line is null)
            {
                env.Out.WriteLine();
                return last;
            }
            // Piped input is echoed after the prompt so the transcript reads like a terminal session.
            if (!env.IsInputInteractive) env.Out.WriteLine(line);

            var trimmed = line.Trim();
            if (trimmed.Length == 0 || trimmed.StartsWith('#')) continue;

            var (code, leave) = await ExecuteAsync(line, ct);
            _history.Add(trimmed);
            last = code;
            if (leave) return last;
        }
    }

    private void PromptInterrupted()
    {
        session.Env.Out.WriteLine();
        session.Env.Out.WriteLine("(type 'exit' or press Ctrl+D to leave)");
        session.Env.Out.Write(Prompt);
        session.Env.Out.Flush();
    }

    /// <summary>Runs one line; never throws except on cancellation of the whole shell.</summary>
    public async Task<(int Code, bool Leave)> ExecuteAsync(string line, CancellationToken shellCt)
    {
        // At a terminal, Ctrl+C cancels only this command and the shell goes on; a piped script is stopped as a whole.
        using var commandCts = CancellationTokenSource.CreateLinkedTokenSource(shellCt);
        using var claim = session.Env.IsInputInteractive ? session.Env.Interrupts.Claim(commandCts.Cancel) : null;
        var ct = commandCts.Token;

        IReadOnlyList<string> words;
        try
        {
            words = ShellTokenizer.Split(line);
        }
        catch (ShellSyntaxException e)
        {
            session.Output.Error(e.Message);
            return (ExitCodes.Usage, false);
        }
        if (words.Count == 0) return (ExitCodes.Ok, false);

        try
        {
            switch (words[0])
            {
                case "exit" or "quit":
                    return (ExitCode(words), true);
                case "pwd":
                    session.Output.Line(session.CurrentDirectory);
                    return (ExitCodes.Ok, false);
                case "history":
                    for (var i = 0; i < _history.Count; i++) session.Output.Line($"{i + 1,5}  {_history[i]}");
                    return (ExitCodes.Ok, false);
                case "cd":
                    return (await ChangeDirectoryAsync(words, ct), false);
                case "help":
                    return (await HelpAsync(words, ct), false);
                case "shell":
                    throw new CliException(ExitCodes.Usage, "already in the shell");
                default:
                    return (await CliApp.InvokeAsync(session, words, ct), false);
            }
        }
        catch (OperationCanceledException) when (shellCt.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            return (CliApp.Report(session, e, ct), false);
        }
    }

    private static int ExitCode(IReadOnlyList<string> words) =>
        words.Count < 2 ? ExitCodes.Ok
        : int.TryParse(words[1], out var code) && code is >= 0 and <= 255 ? code
        : throw new CliException(ExitCodes.Usage, $"exit: '{words[1]}' is not an exit code (0-255)");

    private async Task<int> ChangeDirectoryAsync(IReadOnlyList<string> words, CancellationToken ct)
    {
        if (words.Count > 2) throw new CliException(ExitCodes.Usage, "cd: too many arguments");
        var target = words.Count == 1 ? await session.TryGetHomeAsync(ct) ?? DfsPath.Root : session.ResolveRemote(words[1]);
        if (target != DfsPath.Root)
        {
            var client = session.GetClient((string?)null);
            var entry = await session.RetryAsync(c => client.StatAsync(target, c), ct);
            if (entry.Kind != EntryKind.Directory) throw new CliException(ExitCodes.Usage, $"cd: {target} is not a folder");
            target = entry.Path;
        }
        session.CurrentDirectory = target;
        return ExitCodes.Ok;
    }

    private async Task<int> HelpAsync(IReadOnlyList<string> words, CancellationToken ct)
    {
        if (words.Count > 2) throw new CliException(ExitCodes.Usage, "help: give at most one command");
        if (words.Count == 2)
        {
            if (Builtins.FirstOrDefault(b => b.Name == words[1]) is { } builtin)
            {
                session.Output.Line($"Usage: {builtin.Synopsis}");
                session.Output.Line($"  {builtin.Description}");
                return ExitCodes.Ok;
            }
            if (words[1] == "shell" || session.Root.Subcommands.All(c => c.Name != words[1]))
                throw new CliException(ExitCodes.Usage, $"help: unknown command '{words[1]}' (type 'help' for the list)");
            return await CliApp.InvokeAsync(session, [words[1], "--help"], ct);
        }

        var rows = session.Root.Subcommands
            .Where(c => c.Name != "shell")
            .Select(c => (Synopsis: CommandTree.Synopsis(c), Description: c.Description ?? ""))
            .Concat(Builtins.Select(b => (b.Synopsis, b.Description)))
            .ToList();
        var width = rows.Max(r => r.Synopsis.Length) + 2;
        session.Output.Line("Commands:");
        foreach (var (synopsis, description) in rows) session.Output.Line($"  {synopsis.PadRight(width)}{description}");
        session.Output.Line("");
        session.Output.Line("Paths may be relative to the current folder. 'help <command>' shows a command's options.");
        return ExitCodes.Ok;
    }
}
