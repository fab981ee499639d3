using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Dfs.Gateway.S3.Signing;

namespace Dfs.Gateway.Tests.S3;

/// <summary>The checksums of S3's x-amz-checksum-* against their published check values and bit-by-bit references.</summary>
public sealed class S3ChecksumTests
{
    private static readonly byte[] Check = Encoding.ASCII.GetBytes("123456789");

    [Fact]
    public void The_CRCs_give_their_check_values()
    {
        Assert.Equal(0xE3069283u, Crc32C.Hash(Check));
        Assert.Equal(0xAE8B14860A799888ul, Crc64Nvme.Hash(Check));
        Assert.Equal(0u, Crc32C.Hash([]));
        Assert.Equal(0ul, Crc64Nvme.Hash([]));
    }

    [Theory]
    [InlineData(S3ChecksumAlgorithm.Crc32, "", "AAAAAA==")]
    [InlineData(S3ChecksumAlgorithm.Crc32, "123456789", "y/Q5Jg==")] // 0xCBF43926, big-endian
    [InlineData(S3ChecksumAlgorithm.Crc32C, "123456789", "4waSgw==")] // 0xE3069283
    [InlineData(S3ChecksumAlgorithm.Crc64Nvme, "123456789", "rosUhgp5mIg=")] // 0xAE8B14860A799888
    [InlineData(S3ChecksumAlgorithm.Sha1, "", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")]
    [InlineData(S3ChecksumAlgorithm.Sha256, "", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=")]
    public void Values_are_written_as_S3_writes_them(S3ChecksumAlgorithm algorithm, string text, string expected)
    {
        using var checksum = new S3Checksum(algorithm);
        checksum.Append(Encoding.ASCII.GetBytes(text));
        Assert.Equal(expected, checksum.GetCurrentBase64());
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(8)]
    [InlineData(9)]
    [InlineData(63)]
    [InlineData(1000)]
    [InlineData(100_003)]
    public void The_fast_CRCs_equal_bit_by_bit_references_however_the_data_is_split(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        Assert.Equal(Reference32C(data), Crc32C.Hash(data));
        Assert.Equal(Reference64Nvme(data), Crc64Nvme.Hash(data));

        foreach (var split in new[] { 1, 3, 8, 13, 4096 })
        {
            var crc32c = uint.MaxValue;
            var crc64 = ulong.MaxValue;
            for (var offset = 0; offset < length; offset += split)
            {
                var piece = data.AsSpan(offset, Math.Min(split, length - offset));
                crc32c = Crc32C.Append(crc32c, piece);
                crc64 = Crc64Nvme.Append(crc64, piece);
            }
            Assert.Equal(Reference32C(data), ~crc32c);
            Assert.Equal(Reference64Nvme(data), ~crc64);
        }
    }

    [Fact]
    public void Every_algorithm_agrees_with_a_one_shot_computation()
    {
        var data = new byte[70_001];
        new Random(5).NextBytes(data);
        var expected = new Dictionary<S3ChecksumAlgorithm, byte[]>
        {
            [S3ChecksumAlgorithm.Crc32] = BigEndian32(Crc32.HashToUInt32(data)),
            [S3ChecksumAlgorithm.Crc32C] = BigEndian32(Reference32C(data)),
            [S3ChecksumAlgorithm.Crc64Nvme] = BigEndian64(Reference64Nvme(data)),
            [S3ChecksumAlgorithm.Sha1] = SHA1.HashData(data),
            [S3ChecksumAlgorithm.Sha256] = SHA256.HashData(data),
        };
        foreach (var (algorithm, value) in expected)
        {
            using var checksum = new S3Checksum(algorithm);
            checksum.Append(data.AsSpan(0, 12345));
            checksum.Append(data.AsSpan(12345));
            Assert.Equal(Convert.ToBase64String(value), checksum.GetCurrentBase64());
            Assert.Equal(value.Length, S3Checksum.Size(algorithm));
            Assert.True(S3Checksum.TryParseHeaderName(S3Checksum.HeaderName(algorithm).ToUpperInvariant(), out var parsed));
            Assert.Equal(algorithm, parsed);
        }
        Assert.False(S3Checksum.TryParseHeaderName("x-amz-checksum-md5", out _));
    }

    private static byte[] BigEndian32(uint value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian64(ulong value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(bytes, value);
        return bytes;
    }

    private static uint Reference32C(ReadOnlySpan<byte> data)
    {
        var crc = uint.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
        }
        return ~crc;
    }

    private static ulong Reference64Nvme(ReadOnlySpan<byte> data)
    {
        var crc = ulong.MaxValue;
        foreach (var b in data)
        {
            crc ^= b;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x9A6C9329AC4BC9B5ul : crc >> 1;
        }
        return ~crc;
    }
}
