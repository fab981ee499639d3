using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Dfs.Gateway.S3.Signing;

/// <summary>An incremental checksum of the kinds S3 clients send (x-amz-checksum-*): the digest as S3 writes it, base64 of its big-endian bytes.</summary>
public abstract class Checksum : IDisposable
{
    /// <summary>The algorithm's name as S3 spells it in headers (crc32, sha256…).</summary>
    public string Name { get; private set; } = "";

    public abstract void Append(ReadOnlySpan<byte> data);
    public abstract byte[] Digest();
    public virtual void Dispose() => GC.SuppressFinalize(this);

    /// <summary>The algorithm a header or trailer names (crc32, crc32c, crc64nvme, sha1, sha256); null when S3 has no such checksum.</summary>
    public static Checksum? For(string algorithm)
    {
        var name = algorithm.ToLowerInvariant();
        var checksum = Create(name);
        if (checksum is not null) checksum.Name = name;
        return checksum;
    }

    private static Checksum? Create(string algorithm) => algorithm switch
    {
        "crc32" => new Crc32Checksum(Crc32Tables.Ieee),
        "crc32c" => new Crc32Checksum(Crc32Tables.Castagnoli),
        "crc64nvme" => new Crc64NvmeChecksum(),
        "sha1" => new HashChecksum(HashAlgorithmName.SHA1),
        "sha256" => new HashChecksum(HashAlgorithmName.SHA256),
        _ => null,
    };

    private sealed class HashChecksum(HashAlgorithmName name) : Checksum
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(name);
        public override void Append(ReadOnlySpan<byte> data) => _hash.AppendData(data);
        public override byte[] Digest() => _hash.GetHashAndReset();
        public override void Dispose()
        {
            _hash.Dispose();
            base.Dispose();
        }
    }

    /// <summary>Reflected CRC-32, table driven, eight bytes at a time (slicing-by-8).</summary>
    private sealed class Crc32Checksum(uint[][] tables) : Checksum
    {
        private uint _crc = 0xFFFFFFFF;

        public override void Append(ReadOnlySpan<byte> data)
        {
            var crc = _crc;
            while (data.Length >= 8)
            {
                var one = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
                var two = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
                crc = tables[7][one & 0xFF] ^ tables[6][(one >> 8) & 0xFF] ^ tables[5][(one >> 16) & 0xFF] ^ tables[4][one >> 24]
                    ^ tables[3][two & 0xFF] ^ tables[2][(two >> 8) & 0xFF] ^ tables[1][(two >> 16) & 0xFF] ^ tables[0][two >> 24];
                data = data[8..];
            }
            foreach (var b in data) crc = tables[0][(crc ^ b) & 0xFF] ^ (crc >> 8);
            _crc = crc;
        }

        public override byte[] Digest()
        {
            var digest = new byte[4];
            BinaryPrimitives.WriteUInt32BigEndian(digest, _crc ^ 0xFFFFFFFF);
            return digest;
        }
    }

    /// <summary>CRC-64/NVME: reflected polynomial 0x9A6C9329AC4BC9B5, initial value and final XOR all ones.</summary>
    private sealed class Crc64NvmeChecksum : Checksum
    {
        private static readonly ulong[] Table = Build();
        private ulong _crc = ulong.MaxValue;

        private static ulong[] Build()
        {
            var table = new ulong[256];
            for (var i = 0; i < 256; i++)
            {
                var crc = (ulong)i;
                for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x9A6C9329AC4BC9B5UL : crc >> 1;
                table[i] = crc;
            }
            return table;
        }

        public override void Append(ReadOnlySpan<byte> data)
        {
            var crc = _crc;
            foreach (var b in data) crc = Table[(crc ^ b) & 0xFF] ^ (crc >> 8);
            _crc = crc;
        }

        public override byte[] Digest()
        {
            var digest = new byte[8];
            BinaryPrimitives.WriteUInt64BigEndian(digest, _crc ^ ulong.MaxValue);
            return digest;
        }
    }
}

internal static class Crc32Tables
{
    public static readonly uint[][] Ieee = Build(0xEDB88320);
    public static readonly uint[][] Castagnoli = Build(0x82F63B78);

    private static uint[][] Build(uint polynomial)
    {
        var tables = new uint[8][];
        for (var t = 0; t < 8; t++) tables[t] = new uint[256];
        for (uint i = 0; i < 256; i++)
        {
            var crc = i;
            for (var bit = 0; bit < 8; bit++) crc = (crc & 1) != 0 ? (crc >> 1) ^ polynomial : crc >> 1;
            tables[0][i] = crc;
        }
        for (var i = 0; i < 256; i++)
            for (var t = 1; t < 8; t++)
                tables[t][i] = (tables[t - 1][i] >> 8) ^ tables[0][tables[t - 1][i] & 0xFF];
        return tables;
    }
}
