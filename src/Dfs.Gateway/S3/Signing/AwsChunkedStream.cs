using System.Buffers;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace Dfs.Gateway.S3.Signing;

/// <summary>
/// Decodes an aws-chunked body (Content-Encoding: aws-chunked and/or x-amz-content-sha256 STREAMING-*): a read-only,
/// forward-only stream of the payload's bytes. Framing: <c>hex-size[;chunk-signature=sig]\r\n data \r\n</c> per chunk, a
/// 0-size chunk last, then trailer lines <c>name:value\r\n</c> (with <c>x-amz-trailer-signature:sig</c> last when signed)
/// and a final <c>\r\n</c>.
/// </summary>
/// <remarks>
/// <para>Chunks are streamed, never buffered whole: data is hashed as it passes to the reader, and a chunk's signature is
/// checked once its last byte has gone out, before any byte of the next chunk or the end is reported. So bytes of a chunk
/// are handed out before its signature is known to be good; that is safe because the caller commits only when it sees
/// end-of-stream, and every check (chunk and trailer signatures, decoded length, checksums) runs before that.</para>
/// <para>Every refusal is an <see cref="S3Exception"/> (IncompleteBody for a body that ends early or a length mismatch,
/// InvalidRequest for bad framing, SignatureDoesNotMatch, MalformedTrailerError, BadDigest); once thrown, every later read
/// throws it again, so no reader can mistake a refused body for a short one.</para>
/// </remarks>
public sealed class AwsChunkedStream : Stream
{
    /// <summary>The longest chunk-header or trailer line accepted: real ones are about 100 bytes.</summary>
    public const int MaxLineLength = 4096;
    private const int MaxTrailerLines = 8;
    private const int BufferSize = 64 * 1024;
    private const string TrailerSignatureName = "x-amz-trailer-signature";
    private static readonly byte[] EmptySha256 = Convert.FromHexString(SigV4.EmptySha256);

    private readonly Stream inner;
    private readonly ChunkSignatureChain? chain;
    private readonly bool hasTrailer;
    private readonly string? checksumTrailer;
    private readonly long? decodedLength;
    private readonly PayloadVerifier verifier;
    /// <summary>SHA-256 of the current chunk's data, then of the trailer lines (signed streams only).</summary>
    private readonly IncrementalHash? hash;
    private readonly byte[] chunkSignature = new byte[64];
    private readonly Dictionary<string, string> trailers = new(StringComparer.Ordinal);
    private byte[]? buffer;
    private int start;
    private int end;
    private long remaining;
    private long announced;
    private long chunks;
    private State state = State.Header;
    private S3Exception? failure;

    private enum State { Header, Data, Final, Done }

    /// <param name="chain">The signature chain, seeded with the request's signature; null for unsigned chunks.</param>
    /// <param name="hasTrailer">Whether the body ends with a trailer section (the *-TRAILER payloads): signed when <paramref name="chain"/> is.</param>
    /// <param name="checksumTrailer">The x-amz-checksum-* trailer that x-amz-trailer announced, if any.</param>
    internal AwsChunkedStream(Stream inner, ChunkSignatureChain? chain, bool hasTrailer, string? checksumTrailer, long? decodedLength, PayloadVerifier verifier)
    {
        this.inner = inner;
        this.chain = chain;
        this.hasTrailer = hasTrailer;
        this.checksumTrailer = checksumTrailer;
        this.decodedLength = decodedLength;
        this.verifier = verifier;
        if (chain is not null)
            hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
    }

    /// <summary>The trailing headers (lowercase names), complete once the stream has reported its end.</summary>
    public IReadOnlyDictionary<string, string> Trailers => trailers;

    /// <summary>How many payload bytes have been handed out so far.</summary>
    public long DecodedBytes => verifier.Count;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        var read = ReadCoreAsync(buffer.AsMemory(offset, count), async: false, CancellationToken.None);
        // With async: false every inner call is synchronous, so the ValueTask is already complete.
        Debug.Assert(read.IsCompleted);
        return read.GetAwaiter().GetResult();
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadCoreAsync(buffer.AsMemory(offset, count), async: true, cancellationToken).AsTask();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        ReadCoreAsync(buffer, async: true, cancellationToken);

    private async ValueTask<int> ReadCoreAsync(Memory<byte> destination, bool async, CancellationToken cancellationToken)
    {
        if (failure is not null)
            throw failure;
        ObjectDisposedException.ThrowIf(buffer is null, this);
        try
        {
            while (true)
            {
                switch (state)
                {
                    case State.Data when remaining > 0:
                        if (destination.IsEmpty)
                            return 0;
                        var want = (int)Math.Min(remaining, destination.Length);
                        int read;
                        if (start < end)
                        {
                            read = Math.Min(want, end - start);
                            buffer.AsSpan(start, read).CopyTo(destination.Span);
                            start += read;
                        }
                        else
                        {
                            // Nothing buffered: the inner stream reads straight into the caller's memory, with no copy in between.
                            read = async ? await inner.ReadAsync(destination[..want], cancellationToken).ConfigureAwait(false) : inner.Read(destination.Span[..want]);
                            if (read == 0)
                                throw Truncated();
                        }
                        var data = destination.Span[..read];
                        hash?.AppendData(data);
                        verifier.Append(data);
                        remaining -= read;
                        return read;

                    case State.Data:
                        await ExpectCrlfAsync(async, cancellationToken).ConfigureAwait(false);
                        VerifyChunkSignature(emptyChunk: false);
                        state = State.Header;
                        break;

                    case State.Header:
                        var (offset, length) = await ReadLineAsync(async, cancellationToken).ConfigureAwait(false);
                        var size = ParseChunkHeader(buffer.AsSpan(offset, length));
                        if (decodedLength is { } declared && size > declared - announced)
                            throw S3Exception.IncompleteBody($"The aws-chunked body carries more than the {declared} bytes that x-amz-decoded-content-length announced.");
                        announced += size;
                        if (size == 0)
                        {
                            VerifyChunkSignature(emptyChunk: true);
                            state = State.Final;
                        }
                        else
                        {
                            remaining = size;
                            state = State.Data;
                        }
                        break;

                    case State.Final:
                        var expected = await ReadTrailerSectionAsync(async, cancellationToken).ConfigureAwait(false);
                        await ExpectEndAsync(async, cancellationToken).ConfigureAwait(false);
                        verifier.Complete(expected);
                        state = State.Done;
                        return 0;

                    default:
                        return 0;
                }
            }
        }
        catch (S3Exception e)
        {
            failure = e;
            throw;
        }
    }

    private long ParseChunkHeader(ReadOnlySpan<byte> line)
    {
        chunks++;
        var semicolon = line.IndexOf((byte)';');
        var hex = semicolon < 0 ? line : line[..semicolon];
        if (hex.Length is 0 or > 16)
            throw Framing($"chunk {chunks} has no valid hexadecimal size.");
        ulong size = 0;
        foreach (var b in hex)
        {
            if (!char.IsAsciiHexDigit((char)b))
                throw Framing($"chunk {chunks} has no valid hexadecimal size.");
            size = size << 4 | (uint)(b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10);
        }
        if (size > long.MaxValue)
            throw Framing($"chunk {chunks} is too large.");
        if (chain is not null)
        {
            // Signed chunks carry exactly one extension, the signature; unsigned ones may carry others, which mean nothing here.
            var extension = semicolon < 0 ? default : line[(semicolon + 1)..];
            if (!extension.StartsWith("chunk-signature="u8) || extension.Length != "chunk-signature=".Length + 64)
                throw Framing($"chunk {chunks} carries no valid chunk-signature.");
            extension["chunk-signature=".Length..].CopyTo(chunkSignature);
        }
        return (long)size;
    }

    private void VerifyChunkSignature(bool emptyChunk)
    {
        if (chain is null)
            return;
        Span<byte> dataSha256 = stackalloc byte[32];
        if (emptyChunk)
            EmptySha256.CopyTo(dataSha256);
        else
            hash!.GetHashAndReset(dataSha256);
        if (!chain.VerifyChunk(chunkSignature, dataSha256))
            throw S3Exception.SignatureDoesNotMatch($"The chunk signature of chunk {chunks} does not match what we calculated; the chunk was altered, reordered or signed with another key.");
    }

    /// <summary>Reads the lines after the last chunk up to the empty one; returns the checksum trailer's decoded value.</summary>
    private async ValueTask<byte[]?> ReadTrailerSectionAsync(bool async, CancellationToken cancellationToken)
    {
        byte[]? signature = null;
        for (var lines = 0; ; lines++)
        {
            var (offset, length) = await ReadLineAsync(async, cancellationToken).ConfigureAwait(false);
            if (length == 0)
                break;
            if (!hasTrailer)
                throw S3Exception.MalformedTrailer("Trailing headers were sent, but x-amz-content-sha256 announced a payload without a trailer.");
            if (lines >= MaxTrailerLines)
                throw S3Exception.MalformedTrailer("Too many trailing headers.");
            var line = buffer.AsSpan(offset, length);
            var colon = line.IndexOf((byte)':');
            if (colon <= 0)
                throw S3Exception.MalformedTrailer("A trailing header has no name.");
            var name = Encoding.ASCII.GetString(line[..colon]).Trim().ToLowerInvariant();
            var value = Encoding.ASCII.GetString(line[(colon + 1)..]).Trim();
            if (name == TrailerSignatureName)
            {
                if (chain is null || signature is not null)
                    throw S3Exception.MalformedTrailer("Unexpected x-amz-trailer-signature.");
                signature = Encoding.ASCII.GetBytes(value);
                continue;
            }
            if (signature is not null)
                throw S3Exception.MalformedTrailer("x-amz-trailer-signature must be the last trailing header.");
            if (name != checksumTrailer || !trailers.TryAdd(name, value))
                throw S3Exception.MalformedTrailer($"The trailing header {name} was not announced by x-amz-trailer, or was sent twice.");
            // The trailer signature covers each line as "name:value\n", exactly as the client sent it.
            hash?.AppendData(line);
            hash?.AppendData("\n"u8);
        }

        if (chain is not null && hasTrailer)
        {
            if (signature is null)
                throw S3Exception.MalformedTrailer("The x-amz-trailer-signature trailing header is missing.");
            if (!VerifyTrailerSignature(signature))
                throw S3Exception.SignatureDoesNotMatch("The trailer signature does not match what we calculated; the trailing headers were altered or signed with another key.");
        }
        if (checksumTrailer is null)
            return null;
        if (!trailers.TryGetValue(checksumTrailer, out var encoded))
            throw S3Exception.MalformedTrailer($"The trailing header {checksumTrailer} announced by x-amz-trailer is missing.");
        var algorithm = verifier.ChecksumAlgorithm!.Value;
        var expected = new byte[S3Checksum.Size(algorithm)];
        if (!Convert.TryFromBase64String(encoded, expected, out var written) || written != expected.Length)
            throw S3Exception.InvalidRequest($"Value for {checksumTrailer} trailing header is invalid.");
        return expected;
    }

    private bool VerifyTrailerSignature(byte[] signature)
    {
        Span<byte> linesSha256 = stackalloc byte[32];
        hash!.GetHashAndReset(linesSha256);
        return chain!.VerifyTrailer(signature, linesSha256);
    }

    /// <summary>The terminating CRLF has been read: nothing may follow it.</summary>
    private async ValueTask ExpectEndAsync(bool async, CancellationToken cancellationToken)
    {
        if (start < end || await FillAsync(async, cancellationToken).ConfigureAwait(false) > 0)
            throw Framing("data follows the end of the body.");
    }

    private async ValueTask ExpectCrlfAsync(bool async, CancellationToken cancellationToken)
    {
        while (end - start < 2)
        {
            if (await FillAsync(async, cancellationToken).ConfigureAwait(false) == 0)
                throw Truncated();
        }
        if (buffer![start] != '\r' || buffer[start + 1] != '\n')
            throw Framing($"the data of chunk {chunks} is longer than its size or not followed by CRLF.");
        start += 2;
    }

    /// <summary>The next CRLF-terminated line: its offset and length (without CRLF) in the buffer, valid until the next fill.</summary>
    private async ValueTask<(int Offset, int Length)> ReadLineAsync(bool async, CancellationToken cancellationToken)
    {
        var scanned = 0;
        while (true)
        {
            var newline = buffer.AsSpan(start + scanned, end - start - scanned).IndexOf((byte)'\n');
            if (newline >= 0)
            {
                var lineFeed = start + scanned + newline;
                if (lineFeed == start || buffer![lineFeed - 1] != '\r')
                    throw Framing("a chunk header or trailer line does not end with CRLF.");
                if (lineFeed - 1 - start > MaxLineLength)
                    throw Framing($"a chunk header or trailer line is longer than {MaxLineLength} bytes.");
                var line = (start, lineFeed - 1 - start);
                start = lineFeed + 1;
                return line;
            }
            scanned = end - start;
            // The line's CR may already be in: one byte of slack, so a line of exactly MaxLineLength passes.
            if (scanned > MaxLineLength + 1)
                throw Framing($"a chunk header or trailer line is longer than {MaxLineLength} bytes.");
            if (await FillAsync(async, cancellationToken).ConfigureAwait(false) == 0)
                throw Truncated();
        }
    }

    /// <summary>Reads more of the inner stream after what is buffered (moved to the front first: at most a partial line).</summary>
    private async ValueTask<int> FillAsync(bool async, CancellationToken cancellationToken)
    {
        var bytes = buffer!;
        if (start > 0)
        {
            bytes.AsSpan(start, end - start).CopyTo(bytes);
            end -= start;
            start = 0;
        }
        var read = async
            ? await inner.ReadAsync(bytes.AsMemory(end), cancellationToken).ConfigureAwait(false)
            : inner.Read(bytes.AsSpan(end));
        end += read;
        return read;
    }

    private S3Exception Truncated() =>
        S3Exception.IncompleteBody($"The aws-chunked body ended early, in chunk {chunks}, after {verifier.Count} bytes of payload.");

    private static S3Exception Framing(string message) => S3Exception.InvalidRequest("Malformed aws-chunked body: " + message);

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Releases the buffer and hashes; the inner stream (the request body) belongs to the server and is left open.</summary>
    protected override void Dispose(bool disposing)
    {
        if (disposing && buffer is not null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            buffer = null;
            hash?.Dispose();
            verifier.Dispose();
        }
        base.Dispose(disposing);
    }
}
