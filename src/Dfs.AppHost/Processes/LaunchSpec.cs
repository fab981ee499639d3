namespace Dfs.AppHost.Processes;

/// <summary>What to run. An environment value of null removes an inherited variable.</summary>
public sealed record LaunchSpec(
    string FileName,
    IReadOnlyList<string> Arguments,
    IReadOnlyDictionary<string, string?> Environment,
    string? WorkingDirectory = null)
{
    public override string ToString() => string.Join(' ', Arguments.Prepend(FileName).Select(Quote));

    private static string Quote(string s) => s.Length > 0 && !s.Any(c => char.IsWhiteSpace(c) || c is '"' or '\'') ? s : $"'{s.Replace("'", "'\\''")}'";
}
