using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dfs.Contracts.Security;

/// <summary>What <see cref="ChunkReadGrant.Verify"/> found.</summary>
public enum ChunkReadGrantStatus
{
    Valid,
    /// <summary>The query has no <c>expires</c> and <c>grant</c>, or they are not numbers and base64url.</summary>
    Malformed,
    Expired,
    /// <summary>Signed with another secret, for another chunk, or for another expiry.</summary>
    Mismatch,
}

/// <summary>
/// A signed URL for reading one chunk straight from a node: <c>/chunks/ID?expires=UNIX&amp;grant=MAC</c>, the MAC an
/// HMAC-SHA256 keyed with the cluster's secret over <c>"chunk-read\nID\nUNIX"</c>. The gateway hands these out after it
/// decided the caller may read the file; a node checks them without asking anyone. The scope is one chunk for a few
/// minutes: a grant cannot be stretched to another chunk, another method, or later.
/// </summary>
public sealed class ChunkReadGrant
{
    public const string ExpiresParameter = "expires";
    public const string GrantParameter = "grant";
    private const int MacBytes = 32;
    private readonly byte[] _key;

    public ChunkReadGrant(string secret)
    {
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException("The cluster secret must not be empty.", nameof(secret));
        _key = Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>The query string (without '?') that lets its holder read <paramref name="chunkId"/> until <paramref name="expires"/>.</summary>
    public string Query(string chunkId, DateTimeOffset expires)
    {
        var unix = expires.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"{ExpiresParameter}={unix}&{GrantParameter}={Base64Url(Mac(chunkId, unix))}");
    }

    /// <summary>Checks a grant that came with a read of <paramref name="chunkId"/>; constant time on the MAC.</summary>
    public ChunkReadGrantStatus Verify(string chunkId, string? expires, string? grant, DateTimeOffset now)
    {
        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) || grant is null)
            return ChunkReadGrantStatus.Malformed;
        Span<byte> given = stackalloc byte[MacBytes];
        if (!TryFromBase64Url(grant, given)) return ChunkReadGrantStatus.Malformed;
        if (now.ToUnixTimeSeconds() > unix) return ChunkReadGrantStatus.Expired;
        return CryptographicOperations.FixedTimeEquals(given, Mac(chunkId, unix)) ? ChunkReadGrantStatus.Valid : ChunkReadGrantStatus.Mismatch;
    }

    private byte[] Mac(string chunkId, long unix) =>
        HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"chunk-read\n{chunkId}\n{unix}")));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static bool TryFromBase64Url(string text, Span<byte> destination)
    {
        if (text.Length != 43) return false;
        var padded = text.Replace('-', '+').Replace('_', '/') + "=";
        return Convert.TryFromBase64String(padded, destination, out var written) && written == MacBytes;
    }
}
