using System.Text.Json;
using Dfs.Contracts.Clients;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Dfs.Cli.Output;

/// <summary>Where commands write: human output through Spectre.Console, machine output as JSON, errors as `dfs: …` on stderr.</summary>
internal sealed class CliOutput(CliEnvironment env)
{
    public static readonly JsonSerializerOptions Json = new(DfsJson.Options) { WriteIndented = true };

    public IAnsiConsole Console => env.Console;

    public void WriteJson<T>(T value)
    {
        env.Out.WriteLine(JsonSerializer.Serialize(value, Json));
        env.Out.Flush();
    }

    public void Line(string text)
    {
        env.Out.WriteLine(text);
        env.Out.Flush();
    }

    public void Render(IRenderable renderable) => env.Console.Write(renderable);

    public void Error(string message)
    {
        env.Error.WriteLine($"dfs: {message}");
        env.Error.Flush();
    }

    public void RetryNotice(Exception exception, int nextAttempt) =>
        Error($"{ErrorReporter.Describe(exception)}; retrying (attempt {nextAttempt} of {env.Retry.Attempts})");
}
