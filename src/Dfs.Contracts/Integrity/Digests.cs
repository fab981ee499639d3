using System.Diagnostics.CodeAnalysis;

namespace Dfs.Contracts.Integrity;

/// <summary>Wire formats of the digests Dfs speaks: ETag (quoted MD5 hex), Content-MD5 (base64), Repr-Digest (RFC 9530).</summary>
public static class Digests
{
    public const string ReprDigestHeader = "Repr-Digest";
    public const string ContentMd5Header = "Content-MD5";

    public static string ETag(string md5Hex) => $"\"{md5Hex}\"";

    public static string ReprDigest(string sha256Hex) => $"sha-256=:{Convert.ToBase64String(Convert.FromHexString(sha256Hex))}:";

    /// <summary>Reads the sha-256 member of a Repr-Digest header; other algorithms are ignored.</summary>
    public static bool TryParseReprDigestSha256(string? header, [NotNullWhen(true)] out string? sha256Hex, [NotNullWhen(false)] out string? error)
    {
        sha256Hex = null;
        if (string.IsNullOrWhiteSpace(header)) { error = "Repr-Digest is empty."; return false; }
        foreach (var member in header.Split(','))
        {
            var parts = member.Trim().Split('=', 2);
            if (parts.Length != 2 || !parts[0].Trim().Equals("sha-256", StringComparison.OrdinalIgnoreCase)) continue;
            var value = parts[1].Trim();
            if (value.Length < 2 || value[0] != ':' || value[^1] != ':') { error = "Repr-Digest sha-256 must be a byte sequence (:base64:)."; return false; }
            if (!TryFromBase64(value[1..^1], 32, out var bytes)) { error = "Repr-Digest sha-256 is not 32 bytes of base64."; return false; }
            sha256Hex = Convert.ToHexStringLower(bytes);
            error = null;
            return true;
        }
        error = "Repr-Digest has no sha-256 member.";
        return false;
    }

    public static bool TryParseContentMd5(string? header, [NotNullWhen(true)] out string? md5Hex, [NotNullWhen(false)] out string? error)
    {
        md5Hex = null;
        if (header is null || !TryFromBase64(header.Trim(), 16, out var bytes)) { error = "Content-MD5 must be 16 bytes of base64."; return false; }
        md5Hex = Convert.ToHexStringLower(bytes);
        error = null;
        return true;
    }

    public static string ContentMd5(string md5Hex) => Convert.ToBase64String(Convert.FromHexString(md5Hex));

    private static bool TryFromBase64(string text, int expectedLength, out byte[] bytes)
    {
        bytes = new byte[expectedLength];
        Span<byte> buffer = stackalloc byte[64];
        if (!Convert.TryFromBase64String(text, buffer, out var written) || written != expectedLength) return false;
        buffer[..written].CopyTo(bytes);
        return true;
    }
}
