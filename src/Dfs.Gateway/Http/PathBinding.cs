using Dfs.Contracts.Paths;

namespace Dfs.Gateway.Http;

internal static class PathBinding
{
    /// <summary>
    /// Turns a catch-all route value into a canonical path, or a 400. Kestrel leaves %2F encoded in the
    /// path, so a '/' inside a segment arrives as "%2F" and is refused rather than silently splitting a name.
    /// </summary>
    public static string FromRoute(string? routeValue)
    {
        var raw = routeValue ?? "";
        if (raw.Contains("%2F", StringComparison.OrdinalIgnoreCase))
            throw DfsProblemException.BadRequest("Invalid path", "A name cannot contain '/' (%2F).");
        if (raw.Length > 0 && raw[^1] == '/')
            raw = raw[..^1];
        if (!DfsPath.TryNormalize("/" + raw, out var normalized, out var error))
            throw DfsProblemException.BadRequest("Invalid path", error);
        return normalized;
    }

    public static string FromBody(string? value, string field)
    {
        if (!DfsPath.TryNormalize(value, out var normalized, out var error))
            throw DfsProblemException.BadRequest("Invalid path", $"{field}: {error}");
        return normalized;
    }
}
