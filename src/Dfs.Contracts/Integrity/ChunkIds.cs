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

    /// <summary>Whether <paramref name="data"/> are the bytes <paramref name="chunkId"/> names.</summary>
    public static bool Matches(ReadOnlySpan<byte> data, string chunkId)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(data, hash);
        Span<byte> expected = stackalloc byte[SHA256.HashSizeInBytes];
        return Convert.FromHexString(chunkId, expected, out _, out var written) == System.Buffers.OperationStatus.Done
               && written == expected.Length
               && hash.SequenceEqual(expected);
    }
}
