namespace Dfs.Cli;

/// <summary>An expected failure with a message for the user and the exit code that classifies it.</summary>
public sealed class CliException(int exitCode, string message, Exception? inner = null) : Exception(message, inner)
{
    public int ExitCode { get; } = exitCode;
}
