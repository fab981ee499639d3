namespace Dfs.Gateway.Console;

/// <summary>Where the console's pages and actions live, and the links between them.</summary>
public static class ConsoleRoutes
{
    public const string Prefix = "/console";
    public const string Cluster = Prefix;
    public const string Login = Prefix + "/login";
    public const string Logout = Prefix + "/logout";
    public const string Files = Prefix + "/files";
    public const string Download = Prefix + "/download";
    public const string Upload = Prefix + "/upload";
    public const string Mkdir = Prefix + "/mkdir";
    public const string Keys = Prefix + "/keys";
    public const string Assets = Prefix + "/assets";
    public const string Stylesheet = Assets + "/console.css";
    public const string Script = Assets + "/console.js";

    /// <summary>The file browser at <paramref name="path"/>: a folder's listing (from <paramref name="cursor"/>) or a file's details.</summary>
    public static string FilesAt(string path, string? cursor = null) =>
        Files + "?path=" + Uri.EscapeDataString(path) + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor));

    public static string DownloadOf(string path) => Download + "?path=" + Uri.EscapeDataString(path);

    public static string Drain(Guid node) => $"{Prefix}/nodes/{node}/drain";

    public static string CancelDrain(Guid node) => $"{Prefix}/nodes/{node}/drain/cancel";

    public static string RevokeKey(string id) => $"{Keys}/{Uri.EscapeDataString(id)}/revoke";

    /// <param name="sessionEnded">The request carried a session the gateway no longer accepts (signed out, expired, revoked).</param>
    public static string LoginFor(string? returnUrl, bool sessionEnded = false) =>
        Login + (IsConsoleUrl(returnUrl) && returnUrl != Cluster ? "?returnUrl=" + Uri.EscapeDataString(returnUrl!) : "")
        + (sessionEnded ? (IsConsoleUrl(returnUrl) && returnUrl != Cluster ? "&" : "?") + "ended=1" : "");

    /// <summary>
    /// A return address the sign-in may send the browser to: a path of the console itself. Anything else (another
    /// site, "//host" or "/\host" which browsers read as another site, control characters) is not followed.
    /// </summary>
    public static bool IsConsoleUrl(string? url) =>
        !string.IsNullOrEmpty(url)
        && (url == Prefix || url.StartsWith(Prefix + "/", StringComparison.Ordinal) || url.StartsWith(Prefix + "?", StringComparison.Ordinal))
        && !url.Contains('\\') && !url.Any(char.IsControl);
}
