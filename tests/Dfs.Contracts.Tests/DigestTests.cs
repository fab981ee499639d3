using System.Security.Cryptography;
using Dfs.Contracts.Integrity;

namespace Dfs.Contracts.Tests;

public sealed class DigestTests
{
    private static readonly byte[] Data = "hello dfs"u8.ToArray();

    [Fact]
    public void Repr_digest_round_trips_the_sha256()
    {
        var hex = Convert.ToHexStringLower(SHA256.HashData(Data));
        var header = Digests.ReprDigest(hex);
        Assert.StartsWith("sha-256=:", header);
        Assert.True(Digests.TryParseReprDigestSha256(header, out var parsed, out _));
        Assert.Equal(hex, parsed);
        // Other algorithms may come first (RFC 9530 dictionaries).
        Assert.True(Digests.TryParseReprDigestSha256("sha-512=:AAAA:, " + header, out parsed, out _));
        Assert.Equal(hex, parsed);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("sha-512=:AAAA:", "no sha-256")]
    [InlineData("sha-256=abc", "byte sequence")]
    [InlineData("sha-256=:AAAA:", "32 bytes")]
    [InlineData("sha-256=:!!!:", "32 bytes")]
    public void Malformed_repr_digests_are_refused(string header, string reason)
    {
        Assert.False(Digests.TryParseReprDigestSha256(header, out _, out var error));
        Assert.Contains(reason, error);
    }

    [Fact]
    public void Content_md5_is_base64_of_16_bytes()
    {
        var hex = Convert.ToHexStringLower(MD5.HashData(Data));
        Assert.True(Digests.TryParseContentMd5(Digests.ContentMd5(hex), out var parsed, out _));
        Assert.Equal(hex, parsed);
        Assert.False(Digests.TryParseContentMd5("AAAA", out _, out _));
        Assert.False(Digests.TryParseContentMd5("not base64", out _, out _));
        Assert.Equal($"\"{hex}\"", Digests.ETag(hex));
    }

    [Fact]
    public void Chunk_ids_are_lowercase_hex_sha256()
    {
        var id = ChunkIds.Compute(Data);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Data)), id);
        Assert.True(ChunkIds.IsValid(id));
        Assert.False(ChunkIds.IsValid(id.ToUpperInvariant()));
        Assert.False(ChunkIds.IsValid(id.AsSpan(0, 63)));
        Assert.False(ChunkIds.IsValid(id[..63] + "g"));
        Assert.False(ChunkIds.IsValid(string.Concat("../", id.AsSpan(3))));
    }
}
