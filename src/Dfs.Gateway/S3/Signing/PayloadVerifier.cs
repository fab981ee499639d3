using System.Security.Cryptography;

namespace Dfs.Gateway.S3.Signing;

/// <summary>
/// What the decoded bytes of a body must match once they have all been seen: their count (x-amz-decoded-content-length),
/// a hex x-amz-content-sha256, Content-MD5, and one x-amz-checksum-* (from a header, or from the trailer at the end).
/// </summary>
internal sealed class PayloadVerifier : IDisposable
{
    private readonly long? expectedLength;
    private readonly IncrementalHash? sha256;
    private readonly byte[]? expectedSha256;
    private readonly IncrementalHash? md5;
    private readonly byte[]? expectedMd5;
    private readonly S3Checksum? checksum;
    private readonly byte[]? expectedChecksum;

    public PayloadVerifier(long? expectedLength, byte[]? expectedSha256, byte[]? expectedMd5, S3ChecksumAlgorithm? checksumAlgorithm, byte[]? expectedChecksum)
    {
        this.expectedLength = expectedLength;
        this.expectedSha256 = expectedSha256;
        this.expectedMd5 = expectedMd5;
        this.expectedChecksum = expectedChecksum;
        if (expectedSha256 is not null)
            sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (expectedMd5 is not null)
            md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        if (checksumAlgorithm is { } algorithm)
            checksum = new S3Checksum(algorithm);
    }

    /// <summary>True when there is nothing to check: the body can be handed out as it is.</summary>
    public bool IsEmpty => expectedLength is null && sha256 is null && md5 is null && checksum is null;

    public S3ChecksumAlgorithm? ChecksumAlgorithm => checksum?.Algorithm;

    public long Count { get; private set; }

    public void Append(ReadOnlySpan<byte> data)
    {
        Count += data.Length;
        sha256?.AppendData(data);
        md5?.AppendData(data);
        checksum?.Append(data);
    }

    /// <summary>Throws the S3 error for the first thing that does not match; <paramref name="trailerChecksum"/> is the trailer's decoded value.</summary>
    public void Complete(byte[]? trailerChecksum)
    {
        if (expectedLength is { } length && Count != length)
            throw S3Exception.IncompleteBody($"The body carried {Count} bytes where x-amz-decoded-content-length said {length}.");
        Span<byte> digest = stackalloc byte[32];
        if (sha256 is not null && !(sha256.GetCurrentHash(digest) == 32 && digest.SequenceEqual(expectedSha256)))
            throw S3Exception.ContentSha256Mismatch();
        if (md5 is not null && !digest[..md5.GetCurrentHash(digest)].SequenceEqual(expectedMd5))
            throw S3Exception.BadDigest("The Content-MD5 you specified did not match what we received.");
        if (checksum is not null)
        {
            var expected = expectedChecksum ?? trailerChecksum
                ?? throw S3Exception.MalformedTrailer($"The {S3Checksum.HeaderName(checksum.Algorithm)} trailer is missing.");
            if (!digest[..checksum.GetCurrentValue(digest)].SequenceEqual(expected))
                throw S3Exception.BadDigest($"The {S3Checksum.Name(checksum.Algorithm)} you specified did not match the calculated checksum.");
        }
    }

    public void Dispose()
    {
        sha256?.Dispose();
        md5?.Dispose();
        checksum?.Dispose();
    }
}

/// <summary>A plain (not aws-chunked) body passed through a <see cref="PayloadVerifier"/> that is checked before end-of-stream is reported.</summary>
internal sealed class VerifiedBodyStream(Stream inner, PayloadVerifier verifier) : Stream
{
    private Exception? failure;
    private bool completed;

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        Rethrow();
        return Seen(buffer, inner.Read(buffer), buffer.IsEmpty);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        Rethrow();
        var read = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Seen(buffer.Span, read, buffer.IsEmpty);
    }

    private int Seen(Span<byte> buffer, int read, bool emptyRequest)
    {
        if (read > 0)
        {
            verifier.Append(buffer[..read]);
            return read;
        }
        if (emptyRequest || completed)
            return 0;
        try
        {
            // The end: everything is checked before the reader is told, so a caller that commits at end-of-stream never commits bad data.
            verifier.Complete(trailerChecksum: null);
            completed = true;
            return 0;
        }
        catch (S3Exception e)
        {
            failure = e;
            throw;
        }
    }

    private void Rethrow()
    {
        if (failure is not null)
            throw failure;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
            verifier.Dispose();
        base.Dispose(disposing);
    }
}
