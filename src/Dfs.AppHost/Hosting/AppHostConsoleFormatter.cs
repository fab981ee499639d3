using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Dfs.AppHost.Hosting;

/// <summary>One short line per event ("12:00:01 info  node-1 is running at …"): the AppHost's console is read by people.</summary>
internal sealed class AppHostConsoleFormatter() : ConsoleFormatter(FormatterName)
{
    public const string FormatterName = "dfs-apphost";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter(logEntry.State, logEntry.Exception);
        if (string.IsNullOrEmpty(message) && logEntry.Exception is null) return;
        var level = logEntry.LogLevel switch
        {
            LogLevel.Trace => "trce",
            LogLevel.Debug => "dbug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warn",
            LogLevel.Error => "fail",
            LogLevel.Critical => "crit",
            _ => "    ",
        };
        textWriter.Write($"{DateTime.Now:HH:mm:ss} {level}  {message}");
        if (logEntry.Exception is { } e) textWriter.Write($" ({e.GetType().Name}: {e.Message})");
        textWriter.WriteLine();
    }

    public static ILoggerFactory CreateLoggerFactory(LogLevel minimum) => LoggerFactory.Create(logging => logging
        .SetMinimumLevel(minimum)
        .AddConsole(o => o.FormatterName = FormatterName)
        .AddConsoleFormatter<AppHostConsoleFormatter, ConsoleFormatterOptions>());
}
