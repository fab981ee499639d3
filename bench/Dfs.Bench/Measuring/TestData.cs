using System.Buffers;
using System.Security.Cryptography;

namespace Dfs.Bench.Measuring;

/// <summary>Incompressible test data: files on disk for the throughput figures, generated streams for the memory figure.</summary>
public static class TestData
{
    public const int BufferSize = 1 << 20;

    /// <summary>Writes <paramref name="size"/> random bytes (left in the page cache, as a freshly written file is) and returns their SHA-256.</summary>
    public static async Task<string> WriteRandomFileAsync(string path, long size, CancellationToken ct)
    {
        // Unseeded Random is xoshiro256**: several GB/s, so generating never bounds anything we measure.
        var random = new Random();
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1, FileOptions.Asynchronous);
            for (long done = 0; done < size;)
            {
                var n = (int)Math.Min(BufferSize, size - done);
                random.NextBytes(buffer.AsSpan(0, n));
                sha.AppendData(buffer, 0, n);
                await file.WriteAsync(buffer.AsMemory(0, n), ct);
                done += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    public static FileStream OpenRead(string path) =>
        new(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);

    /// <summary>
    /// Reads a response body to the end into one reused buffer, optionally hashing it, and reports progress.
    /// The bytes are dropped: a benchmark client must not be the thing it measures.
    /// </summary>
    public static async Task<(long Bytes, string? Sha256)> DrainAsync(Stream body, bool hash, Action<long>? progress, CancellationToken ct)
    {
        using var sha = hash ? IncrementalHash.CreateHash(HashAlgorithmName.SHA256) : null;
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0)
            {
                sha?.AppendData(buffer, 0, read);
                total += read;
                progress?.Invoke(total);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return (total, sha is null ? null : Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}

/// <summary>A non-seekable stream of random bytes that never holds the whole content, and knows the SHA-256 of what it produced.</summary>
public sealed class GeneratedStream(long length) : Stream
{
    private readonly Random _random = new();
    private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position { get => _position; set => throw new NotSupportedException(); }

    /// <summary>The SHA-256 of every byte read so far (call once, at the end; works after the stream was disposed, as HttpClient does).</summary>
    public string Sha256()
    {
        var hex = Convert.ToHexStringLower(_sha.GetHashAndReset());
        _sha.Dispose();
        return hex;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = (int)Math.Min(buffer.Length, length - _position);
        if (n <= 0) return 0;
        _random.NextBytes(buffer[..n]);
        _sha.AppendData(buffer[..n]);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

}
