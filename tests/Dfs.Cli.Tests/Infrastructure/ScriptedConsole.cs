using Spectre.Console;
using Spectre.Console.Rendering;

namespace Dfs.Cli.Tests.Infrastructure;

/// <summary>An interactive Spectre console over a writer whose keyboard is a script, so prompts (and their masking) can be tested.</summary>
public sealed class ScriptedConsole : IAnsiConsole
{
    private readonly IAnsiConsole _inner;

    public ScriptedConsole(TextWriter output, string keys)
    {
        _inner = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.Yes,
            Out = new AnsiConsoleOutput(output),
        });
        _inner.Profile.Width = 200;
        Input = new ScriptedInput(keys);
    }

    public Profile Profile => _inner.Profile;
    public IAnsiConsoleCursor Cursor => _inner.Cursor;
    public IAnsiConsoleInput Input { get; }
    public IExclusivityMode ExclusivityMode => _inner.ExclusivityMode;
    public RenderPipeline Pipeline => _inner.Pipeline;
    public void Clear(bool home) => _inner.Clear(home);
    public void Write(IRenderable renderable) => _inner.Write(renderable);

    private sealed class ScriptedInput(string keys) : IAnsiConsoleInput
    {
        private int _next;

        public bool IsKeyAvailable() => _next < keys.Length;

        public ConsoleKeyInfo? ReadKey(bool intercept)
        {
            // Running out of keys would make a real prompt wait forever; a test must fail instead.
            if (_next >= keys.Length) throw new InvalidOperationException("the test typed no more keys");
            var c = keys[_next++];
            return c == '\n' ? new ConsoleKeyInfo('\r', ConsoleKey.Enter, false, false, false) : new ConsoleKeyInfo(c, ConsoleKey.A, false, false, false);
        }

        public Task<ConsoleKeyInfo?> ReadKeyAsync(bool intercept, CancellationToken cancellationToken) => Task.FromResult(ReadKey(intercept));
    }
}
