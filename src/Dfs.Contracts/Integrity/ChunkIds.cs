using System.Security.Cryptography;

namespace Dfs.Contracts.Integrity;

/// <summary>A chunk's id is the lowercase hex SHA-256 of its bytes (content addressing).</summary>
public static class ChunkIds
{
    public const int Length = 64;

    public static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.Length != Length) return false;
        foreach (var c in id)
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    public static string FromHash(ReadOnlySpan<byte> sha256) => Convert.ToHexStringLower(sha256);

    public static string Compute(ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        return FromHash(hash);
    }
}
