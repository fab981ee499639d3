using Dfs.Contracts.Clients;
using System.Security.Cryptography;

namespace Dfs.IntegrationTests;

internal static class TestData
{
    /// <summary>Downloads a file through the gateway and hashes it as it streams.</summary>
    public static async Task<string> DownloadSha256Async(this Dfs.Contracts.Clients.IGatewayApi gateway, string path, CancellationToken ct)
    {
        await using var download = await gateway.GetFileAsync(path, ct: ct);
        return await Sha256OfAsync(download.Content);
    }

    public static byte[] Random(long size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    public static string Md5(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(MD5.HashData(data));

    public static string Sha256Of(Stream stream) => Convert.ToHexStringLower(SHA256.HashData(stream));

    public static async Task<string> Sha256OfAsync(Stream stream) => Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));

    /// <summary>A stream of deterministic pseudo-random bytes that never holds the whole content in memory.</summary>
    public sealed class RandomStream(long length, int seed) : Stream
    {
        private readonly Random _random = new(seed);
        private long _position;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _position);
            _random.NextBytes(buffer[..n]);
            _position += n;
            return n;
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
