using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Tests.Support;

/// <summary>The AppHost's log lines in the test's output, so a failing test shows what the orchestrator did.</summary>
public static class TestLogging
{
    public static ILoggerFactory Factory() => LoggerFactory.Create(b => b
        .SetMinimumLevel(LogLevel.Debug)
        .AddProvider(new TestOutputLoggerProvider(TestContext.Current.TestOutputHelper)));

    private sealed class TestOutputLoggerProvider(ITestOutputHelper? output) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new TestOutputLogger(output, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class TestOutputLogger(ITestOutputHelper? output, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => output is not null;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            try { output?.WriteLine($"{DateTime.Now:HH:mm:ss.fff} {logLevel,-11} {category}: {formatter(state, exception)}"); }
            catch (InvalidOperationException) { } // the test has already finished
        }
    }
}
