using Dfs.Cli.Remote;
using Spectre.Console;

namespace Dfs.Cli;

/// <summary>
/// Everything `dfs` takes from the outside world, so tests can run the whole CLI in-process:
/// console streams, environment variables, the local working folder, HTTP plumbing and retry timing.
/// </summary>
public sealed record CliEnvironment
{
    /// <summary>Rich output (tables, trees, progress bars).</summary>
    public required IAnsiConsole Console { get; init; }

    /// <summary>Plain standard output (JSON, help, shell prompt); the same stream <see cref="Console"/> renders to.</summary>
    public required TextWriter Out { get; init; }

    public required TextWriter Error { get; init; }

    public required TextReader In { get; init; }

    /// <summary>Standard output is a terminal: progress bars are shown.</summary>
    public bool IsOutputInteractive { get; init; }

    /// <summary>
    /// Without a terminal, progress as plain lines on stderr anyway (DFS_PROGRESS=always, for CI logs): Spectre's
    /// own fallback prints only when its refresh timer happens to see a milestone, so a quick transfer shows nothing.
    /// </summary>
    public bool ProgressLines { get; init; }

    /// <summary>Standard input is a terminal: the shell greets the user instead of echoing commands.</summary>
    public bool IsInputInteractive { get; init; }

    public Func<string, string?> GetEnvironmentVariable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>
    /// dfs's own configuration folder, where `dfs login` keeps credentials.json. Default: $XDG_CONFIG_HOME/dfs,
    /// else $HOME/.config/dfs, both read through <see cref="GetEnvironmentVariable"/>.
    /// </summary>
    public string ConfigDirectory
    {
        get => _configDirectory ?? DefaultConfigDirectory(GetEnvironmentVariable);
        init => _configDirectory = value;
    }

    private readonly string? _configDirectory;

    /// <summary>Folder that relative local paths are resolved against.</summary>
    public string LocalDirectory { get; init; } = Environment.CurrentDirectory;

    /// <summary>Creates the handler for the gateway HttpClient; null means a default SocketsHttpHandler.</summary>
    public Func<HttpMessageHandler>? HttpHandlerFactory { get; init; }

    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    public TimeProvider Time { get; init; } = TimeProvider.System;

    /// <summary>How often a command that waits on the gateway (`nodes drain --wait`, `nodes remove`) asks for progress.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Ctrl+C routing; Program feeds it from Console.CancelKeyPress, tests call <see cref="Interrupts.TryInterrupt"/>.</summary>
    public Interrupts Interrupts { get; init; } = new();

    public static string DefaultConfigDirectory(Func<string, string?> environment)
    {
        // The XDG spec says to ignore a relative XDG_CONFIG_HOME.
        if (environment("XDG_CONFIG_HOME") is { Length: > 0 } xdg && Path.IsPathRooted(xdg)) return Path.Combine(xdg, "dfs");
        var home = environment("HOME") is { Length: > 0 } h ? h : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, ".config", "dfs");
    }

    public static CliEnvironment FromProcess()
    {
        var outputRedirected = System.Console.IsOutputRedirected;
        // Redirected output gets no escape codes, no live rendering, and a wide page (80 columns would wrap long names).
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = outputRedirected ? AnsiSupport.No : AnsiSupport.Detect,
            ColorSystem = outputRedirected ? ColorSystemSupport.NoColors : ColorSystemSupport.Detect,
            Interactive = outputRedirected ? InteractionSupport.No : InteractionSupport.Detect,
            Out = new AnsiConsoleOutput(System.Console.Out),
        });
        if (outputRedirected) console.Profile.Width = 240;
        return new CliEnvironment
        {
            Console = console,
            Out = System.Console.Out,
            Error = System.Console.Error,
            In = System.Console.In,
            IsOutputInteractive = !outputRedirected && console.Profile.Capabilities.Interactive,
            ProgressLines = string.Equals(Environment.GetEnvironmentVariable("DFS_PROGRESS")?.Trim(), "always", StringComparison.OrdinalIgnoreCase),
            IsInputInteractive = !System.Console.IsInputRedirected,
        };
    }

    /// <summary>A non-interactive environment over the given writers (no colors, no progress bars): for tests and embedding.</summary>
    public static CliEnvironment ForWriters(TextWriter stdout, TextWriter stderr, TextReader? stdin = null, int width = 200)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
            Out = new AnsiConsoleOutput(stdout),
        });
        console.Profile.Width = width;
        return new CliEnvironment
        {
            Console = console,
            Out = stdout,
            Error = stderr,
            In = stdin ?? TextReader.Null,
        };
    }
}
