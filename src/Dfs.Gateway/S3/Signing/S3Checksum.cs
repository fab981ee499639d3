using System.Buffers.Binary;
using System.IO.Hashing;
using System.Numerics;
using System.Security.Cryptography;

namespace Dfs.Gateway.S3.Signing;

/// <summary>The additional checksums S3 accepts in x-amz-checksum-* headers and trailers.</summary>
public enum S3ChecksumAlgorithm
{
    Crc32,
    Crc32C,
    Crc64Nvme,
    Sha1,
    Sha256,
}

/// <summary>
/// One of S3's additional checksums, computed a piece at a time. Its value is written as S3 writes it: base64 of the
/// digest, CRCs as big-endian integers (CRC32 of nothing is "AAAAAA==").
/// </summary>
public sealed class S3Checksum : IDisposable
{
    private readonly Crc32? crc32;
    private readonly IncrementalHash? sha;
    private uint crc32c = uint.MaxValue;
    private ulong crc64 = ulong.MaxValue;

    public S3Checksum(S3ChecksumAlgorithm algorithm)
    {
        Algorithm = algorithm;
        switch (algorithm)
        {
            case S3ChecksumAlgorithm.Crc32: crc32 = new Crc32(); break;
            case S3ChecksumAlgorithm.Sha1: sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1); break;
            case S3ChecksumAlgorithm.Sha256: sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256); break;
            case S3ChecksumAlgorithm.Crc32C or S3ChecksumAlgorithm.Crc64Nvme: break;
            default: throw new ArgumentOutOfRangeException(nameof(algorithm));
        }
    }

    public S3ChecksumAlgorithm Algorithm { get; }

    /// <summary>The digest's length in bytes.</summary>
    public static int Size(S3ChecksumAlgorithm algorithm) => algorithm switch
    {
        S3ChecksumAlgorithm.Crc32 or S3ChecksumAlgorithm.Crc32C => 4,
        S3ChecksumAlgorithm.Crc64Nvme => 8,
        S3ChecksumAlgorithm.Sha1 => 20,
        _ => 32,
    };

    /// <summary>The name S3 uses in messages and in x-amz-sdk-checksum-algorithm: CRC32, CRC32C, CRC64NVME, SHA1, SHA256.</summary>
    public static string Name(S3ChecksumAlgorithm algorithm) => algorithm switch
    {
        S3ChecksumAlgorithm.Crc32 => "CRC32",
        S3ChecksumAlgorithm.Crc32C => "CRC32C",
        S3ChecksumAlgorithm.Crc64Nvme => "CRC64NVME",
        S3ChecksumAlgorithm.Sha1 => "SHA1",
        _ => "SHA256",
    };

    /// <summary>x-amz-checksum-crc32 and so on: the header and trailer name.</summary>
    public static string HeaderName(S3ChecksumAlgorithm algorithm) => "x-amz-checksum-" + Name(algorithm).ToLowerInvariant();

    public static bool TryParseHeaderName(string name, out S3ChecksumAlgorithm algorithm)
    {
        foreach (var candidate in Enum.GetValues<S3ChecksumAlgorithm>())
        {
            if (string.Equals(name, HeaderName(candidate), StringComparison.OrdinalIgnoreCase))
            {
                algorithm = candidate;
                return true;
            }
        }
        algorithm = default;
        return false;
    }

    public void Append(ReadOnlySpan<byte> data)
    {
        switch (Algorithm)
        {
            case S3ChecksumAlgorithm.Crc32: crc32!.Append(data); break;
            case S3ChecksumAlgorithm.Crc32C: crc32c = Crc32C.Append(crc32c, data); break;
            case S3ChecksumAlgorithm.Crc64Nvme: crc64 = Crc64Nvme.Append(crc64, data); break;
            default: sha!.AppendData(data); break;
        }
    }

    /// <summary>Writes the digest of everything appended so far (the state is kept); returns the bytes written.</summary>
    public int GetCurrentValue(Span<byte> destination)
    {
        switch (Algorithm)
        {
            case S3ChecksumAlgorithm.Crc32: BinaryPrimitives.WriteUInt32BigEndian(destination, crc32!.GetCurrentHashAsUInt32()); return 4;
            case S3ChecksumAlgorithm.Crc32C: BinaryPrimitives.WriteUInt32BigEndian(destination, ~crc32c); return 4;
            case S3ChecksumAlgorithm.Crc64Nvme: BinaryPrimitives.WriteUInt64BigEndian(destination, ~crc64); return 8;
            default: return sha!.GetCurrentHash(destination);
        }
    }

    public string GetCurrentBase64()
    {
        Span<byte> value = stackalloc byte[32];
        return Convert.ToBase64String(value[..GetCurrentValue(value)]);
    }

    public void Dispose() => sha?.Dispose();
}

/// <summary>CRC-32C (Castagnoli, reflected 0x82F63B78): the CPU's CRC32 instruction where there is one, through <see cref="BitOperations"/>.</summary>
public static class Crc32C
{
    /// <summary>Continues a raw (not inverted) CRC state: start from uint.MaxValue and invert the end result.</summary>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }
        foreach (var b in data)
            crc = BitOperations.Crc32C(crc, b);
        return crc;
    }

    public static uint Hash(ReadOnlySpan<byte> data) => ~Append(uint.MaxValue, data);
}

/// <summary>
/// CRC-64/NVME (reflected polynomial 0x9A6C9329AC4BC9B5, init and xorout all ones), which System.IO.Hashing lacks:
/// slicing-by-8 tables, so a byte costs one table look-up rather than eight shifts.
/// </summary>
public static class Crc64Nvme
{
    private const ulong Polynomial = 0x9A6C9329AC4BC9B5;
    private static readonly ulong[] Table = BuildTable();

    /// <summary>Continues a raw (not inverted) CRC state: start from ulong.MaxValue and invert the end result.</summary>
    public static ulong Append(ulong crc, ReadOnlySpan<byte> data)
    {
        var table = Table.AsSpan();
        while (data.Length >= 8)
        {
            var word = crc ^ BinaryPrimitives.ReadUInt64LittleEndian(data);
            crc = table[7 * 256 + (int)(word & 0xFF)] ^ table[6 * 256 + (int)((word >> 8) & 0xFF)]
                ^ table[5 * 256 + (int)((word >> 16) & 0xFF)] ^ table[4 * 256 + (int)((word >> 24) & 0xFF)]
                ^ table[3 * 256 + (int)((word >> 32) & 0xFF)] ^ table[2 * 256 + (int)((word >> 40) & 0xFF)]
                ^ table[1 * 256 + (int)((word >> 48) & 0xFF)] ^ table[(int)(word >> 56)];
            data = data[8..];
        }
        foreach (var b in data)
            crc = table[(int)((crc ^ b) & 0xFF)] ^ (crc >> 8);
        return crc;
    }

    public static ulong Hash(ReadOnlySpan<byte> data) => ~Append(ulong.MaxValue, data);

    private static ulong[] BuildTable()
    {
        var table = new ulong[8 * 256];
        for (var i = 0; i < 256; i++)
        {
            var crc = (ulong)i;
            for (var bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ Polynomial : crc >> 1;
            table[i] = crc;
        }
        // table[k][i] is the CRC of byte i followed by k zero bytes.
        for (var k = 1; k < 8; k++)
        {
            for (var i = 0; i < 256; i++)
            {
                var previous = table[(k - 1) * 256 + i];
                table[k * 256 + i] = table[(int)(previous & 0xFF)] ^ (previous >> 8);
            }
        }
        return table;
    }
}
