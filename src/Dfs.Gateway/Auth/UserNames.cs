using System.Text.RegularExpressions;
using Dfs.Contracts.Paths;

namespace Dfs.Gateway.Auth;

/// <summary>Rules for user names and passwords, and where each user's home is.</summary>
public static partial class UserNames
{
    public const int MinPasswordLength = 8;
    public const int MaxPasswordLength = 256;
    public const string HomeRoot = "/home";

    [GeneratedRegex("^[a-z][a-z0-9._-]{0,31}$", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    /// <summary>Null when valid, else why not.</summary>
    public static string? Validate(string? name) =>
        name is not null && NamePattern().IsMatch(name)
            ? null
            : $"'{name}' is not a valid user name: 1 to 32 characters, a lowercase letter first, then lowercase letters, digits, '.', '_' or '-'.";

    public static string? ValidatePassword(string? password) =>
        password is { Length: >= MinPasswordLength and <= MaxPasswordLength }
            ? null
            : $"A password must be {MinPasswordLength} to {MaxPasswordLength} characters long.";

    public static string Home(string name) => HomeRoot + "/" + name;

    /// <summary>The user owning <paramref name="path"/> (it is /home/NAME or below), or null for a path the admins own.</summary>
    public static string? OwnerOf(string path)
    {
        if (!path.StartsWith(HomeRoot + "/", StringComparison.Ordinal)) return null;
        var rest = path.AsSpan(HomeRoot.Length + 1);
        var slash = rest.IndexOf('/');
        var name = (slash < 0 ? rest : rest[..slash]).ToString();
        return name.Length > 0 ? name : null;
    }

    public static bool IsInHome(string user, string path) => DfsPath.IsSameOrBelow(path, Home(user));
}
