using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth;

/// <summary>
/// Salted PBKDF2-SHA256 password hashes in the self-describing form "pbkdf2-sha256$ITERATIONS$SALT$HASH"
/// (salt and hash base64), so the iteration count can rise without invalidating stored hashes.
/// </summary>
public sealed class PasswordHasher(IOptions<AuthOptions> options)
{
    public const string Prefix = "pbkdf2-sha256";
    public const int SaltBytes = 16;
    public const int HashBytes = 32;

    private readonly Lazy<string> _dummy = new(() => Hash("not a password: unknown users are checked against this", options.Value.Pbkdf2Iterations));

    public string Hash(string password) => Hash(password, options.Value.Pbkdf2Iterations);

    public static string Hash(string password, int iterations)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Prefix, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    /// <summary>
    /// True when <paramref name="password"/> matches <paramref name="stored"/>. A null <paramref name="stored"/>
    /// (unknown user) still costs one full hash, so the answer time does not tell whether a user exists.
    /// </summary>
    public bool Verify(string password, string? stored)
    {
        if (stored is null)
        {
            Verify(password, _dummy.Value);
            return false;
        }
        var parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Prefix
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var iterations) || iterations < 1)
            return false;
        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            expected = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }
        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>A random password for a new user: 24 characters from an unambiguous alphabet (about 139 bits).</summary>
    public static string Generate(int length = 24)
    {
        const string alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        return RandomNumberGenerator.GetString(alphabet, length);
    }
}

/// <summary>Bearer tokens: "dfs_" + base64url of 32 random bytes; the gateway stores only the SHA-256 (hex) of the string.</summary>
public static class TokenFormat
{
    public const string Prefix = "dfs_";

    public static string Generate() => Prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string HashOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
