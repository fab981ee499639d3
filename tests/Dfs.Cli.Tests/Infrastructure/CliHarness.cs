using Dfs.Cli.Remote;

namespace Dfs.Cli.Tests.Infrastructure;

public sealed record CliResult(int ExitCode, string Out, string Error)
{
    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Out}\n--- stderr\n{Error}";
}

/// <summary>Runs the real CLI in-process with a private environment: its own variables, local folder and state folder.</summary>
public sealed class CliHarness : IDisposable
{
    public TempFolder Local { get; } = new();
    public TempFolder State { get; } = new();

    /// <summary>$XDG_CONFIG_HOME: `dfs login` keeps its token in Config/dfs/credentials.json, never in the real home.</summary>
    public TempFolder Config { get; } = new();

    public string CredentialsFile => System.IO.Path.Combine(Config.Path, "dfs", "credentials.json");

    /// <summary>
    /// Keys "typed" at a pretend terminal ('\n' is Enter); when set, stdin counts as a terminal and Spectre's prompts
    /// read these keys. Null: no terminal, so prompts are refused.
    /// </summary>
    public string? TypedKeys { get; set; }
    public Dictionary<string, string?> Variables { get; } = new();
    public Interrupts Interrupts { get; } = new();

    /// <summary>Pretend stdin is a terminal (the shell then claims Ctrl+C per command).</summary>
    public bool InteractiveInput { get; set; }

    /// <summary>How often waiting commands poll the gateway (the CLI's default is 500 ms).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    public CliHarness()
    {
        // An empty state folder, so a developer's running cluster never leaks into a test.
        Variables["DFS_STATE_DIR"] = State.Path;
        Variables["XDG_CONFIG_HOME"] = Config.Path;
    }

    public Task<CliResult> RunAsync(params string[] args) => RunWithInputAsync("", args);

    public Task<CliResult> RunWithInputAsync(string stdin, params string[] args) =>
        RunCancellableAsync(stdin, TestContext.Current.CancellationToken, args);

    public async Task<CliResult> RunCancellableAsync(string stdin, CancellationToken ct, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var env = CliEnvironment.ForWriters(stdout, stderr, new StringReader(stdin)) with
        {
            GetEnvironmentVariable = name => Variables.GetValueOrDefault(name),
            LocalDirectory = Local.Path,
            Retry = new RetryPolicy(3, TimeSpan.FromMilliseconds(10), TimeSpan.FromSeconds(10)),
            Interrupts = Interrupts,
            IsInputInteractive = InteractiveInput,
            PollInterval = PollInterval,
        };
        if (TypedKeys is not null)
            env = env with { Console = new ScriptedConsole(stdout, TypedKeys), IsInputInteractive = true };
        var code = await CliApp.RunAsync(args, env, ct);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    public void Dispose()
    {
        Local.Dispose();
        State.Dispose();
        Config.Dispose();
    }
}
