using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>Asking the user: at a terminal through Spectre's prompts (secrets without echo), else one line of stdin per value.</summary>
internal static class Prompts
{
    /// <summary>Prompts need a terminal on both sides: Spectre reads keys from the console and draws the question.</summary>
    public static bool CanPrompt(CliEnvironment env) => env.IsInputInteractive && env.Console.Profile.Capabilities.Interactive;

    /// <summary>Asks for a value at the terminal; without one, fails with <paramref name="otherwise"/> (how to pass it instead).</summary>
    public static Task<string> AskAsync(CliSession session, string question, bool secret, string otherwise, CancellationToken ct)
    {
        if (!CanPrompt(session.Env)) throw new CliException(ExitCodes.Usage, otherwise);
        var prompt = new TextPrompt<string>(question);
        if (secret) prompt = prompt.Secret();
        return prompt.ShowAsync(session.Env.Console, ct);
    }

    /// <summary>One line of stdin (--password-stdin); the line end is not part of the value.</summary>
    public static async Task<string> ReadLineAsync(CliSession session, string what, CancellationToken ct)
    {
        var line = await session.Env.In.ReadLineAsync(ct);
        if (string.IsNullOrEmpty(line)) throw new CliException(ExitCodes.Usage, $"--password-stdin: expected the {what} on a line of stdin, got {(line is null ? "end of input" : "an empty line")}");
        return line;
    }

    /// <summary>A new password, typed twice at a terminal so a typo does not lock the user out.</summary>
    public static async Task<string> AskNewPasswordAsync(CliSession session, string question, string otherwise, CancellationToken ct)
    {
        var first = await AskAsync(session, question, secret: true, otherwise, ct);
        var again = await AskAsync(session, "Repeat it:", secret: true, otherwise, ct);
        if (first != again) throw new CliException(ExitCodes.Usage, "the two passwords differ; nothing was changed");
        return first;
    }
}
