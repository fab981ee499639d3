namespace Dfs.Gateway.Http;

/// <summary>Query values parsed by hand, so a bad one is a 400 that names the parameter and the accepted values.</summary>
internal static class QueryValues
{
    public static bool ParseBool(string? value, string name) => value?.ToLowerInvariant() switch
    {
        null or "" or "false" or "0" => false,
        "true" or "1" => true,
        _ => throw DfsProblemException.BadRequest($"Invalid {name}", $"{name} must be true or false, not '{value}'."),
    };
}
