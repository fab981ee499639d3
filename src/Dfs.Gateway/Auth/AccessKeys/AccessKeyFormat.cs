using System.Security.Cryptography;

namespace Dfs.Gateway.Auth.AccessKeys;

/// <summary>What access key ids and secrets look like: the shapes AWS uses, which S3 tools accept without complaint.</summary>
public static class AccessKeyFormat
{
    public const string IdPrefix = "DFS";
    public const int IdLength = 20;
    public const int SecretLength = 40;

    /// <summary>Base32's alphabet: upper case and digits that cannot be read as letters, like AWS's ids.</summary>
    private const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

    /// <summary>Letters and digits only: no character a shell, a config file or an S3 tool would treat specially.</summary>
    private const string SecretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>"DFS" and 17 random base32 characters (85 bits).</summary>
    public static string NewId() => IdPrefix + RandomNumberGenerator.GetString(IdAlphabet, IdLength - IdPrefix.Length);

    /// <summary>40 random letters and digits (about 238 bits).</summary>
    public static string NewSecret() => RandomNumberGenerator.GetString(SecretAlphabet, SecretLength);

    /// <summary>Could be an id this gateway issued (answers junk without asking the database).</summary>
    public static bool IsWellFormedId(string? id) =>
        id is { Length: IdLength } && id.StartsWith(IdPrefix, StringComparison.Ordinal) && id.AsSpan(IdPrefix.Length).IndexOfAnyExcept(IdAlphabet) < 0;
}
