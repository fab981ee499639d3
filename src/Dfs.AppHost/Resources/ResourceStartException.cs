namespace Dfs.AppHost.Resources;

/// <summary>A resource did not become healthy; the message carries its last output lines.</summary>
public sealed class ResourceStartException(string resourceName, string message, Exception? inner = null) : Exception(message, inner)
{
    public string ResourceName { get; } = resourceName;

    /// <summary>Not started because something it waits for failed; the cause is reported separately.</summary>
    public bool IsCausedByDependency { get; init; }

    internal static string WithOutput(string message, IReadOnlyList<string> lines) =>
        lines.Count == 0
            ? message + " It wrote no output."
            : message + " Its last output lines:" + Environment.NewLine + string.Join(Environment.NewLine, lines.Select(l => "  | " + l));
}
