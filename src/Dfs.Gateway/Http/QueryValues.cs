namespace Dfs.Gateway.Http;

/// <summary>Query values parsed by hand, so a bad one is a 400 that names the parameter and the accepted values.</summary>
internal static class QueryValues
{
    /// <summary>
    /// Absent is false. Present but empty (<c>?recursive=</c> or a bare <c>?recursive</c>) is refused: read as false it
    /// would silently do the opposite of what a client that meant "on" asked for.
    /// </summary>
    public static bool ParseBool(string? value, string name) => value?.ToLowerInvariant() switch
    {
        null or "false" or "0" => false,
        "true" or "1" => true,
        _ => throw DfsProblemException.BadRequest($"Invalid {name}", $"{name} must be true or false, not '{value}'."),
    };
}
