using System.Globalization;
using System.Security.Cryptography;

namespace Dfs.Gateway.S3.Signing;

/// <summary>
/// The bytes of an object as a PUT (or UploadPart) sends them, with every promise the client made about them kept: the
/// aws-chunked framing decoded and its signatures checked, a hex x-amz-content-sha256, the x-amz-checksum-* header or
/// trailer, x-amz-decoded-content-length. A broken promise throws (S3's code) when the reader reaches the end, before it
/// sees the end: a caller that commits only after reading everything never commits bytes the client did not send.
/// </summary>
public static class S3Payload
{
    private const string StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    private const string StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    private const string StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    private const string ChecksumHeaderPrefix = "x-amz-checksum-";

    public static Stream OpenBody(HttpRequest request, SigV4Claim? claim, byte[]? signingKey)
    {
        var mode = claim?.PayloadHash ?? request.Headers["x-amz-content-sha256"].ToString();
        var checks = new List<Check>();
        Stream body = request.Body;
        AwsChunkedStream? chunked = null;
        switch (mode)
        {
            case StreamingSigned or StreamingSignedTrailer:
                if (claim is null || signingKey is null || claim.Presigned)
                    throw S3Exception.InvalidRequest("A streaming signed payload needs a header-signed request.");
                body = chunked = new AwsChunkedStream(request.Body, claim, signingKey, trailer: mode == StreamingSignedTrailer);
                break;
            case StreamingUnsignedTrailer:
                body = chunked = new AwsChunkedStream(request.Body, null, null, trailer: true);
                break;
            case "" or SigV4.UnsignedPayload:
                break;
            default:
                if (mode.StartsWith("STREAMING-", StringComparison.Ordinal))
                    throw S3Exception.InvalidRequest($"The payload mode '{mode}' is not supported (SigV4A is not).");
                if (mode.Length != 64 || !mode.All(char.IsAsciiHexDigit))
                    throw S3Exception.InvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-… or the hex SHA-256 of the body.");
                var payloadHash = mode.ToLowerInvariant();
                checks.Add(new Check(Checksum.For("sha256")!, () => Convert.FromHexString(payloadHash), _ => S3Exception.ContentSha256Mismatch()));
                break;
        }

        foreach (var (name, value) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            if (!lower.StartsWith(ChecksumHeaderPrefix, StringComparison.Ordinal) || lower == "x-amz-checksum-mode" || lower == "x-amz-checksum-type") continue;
            var algorithm = lower[ChecksumHeaderPrefix.Length..];
            if (algorithm == "algorithm") continue;
            var checksum = Checksum.For(algorithm) ?? throw S3Exception.InvalidRequest($"Unsupported checksum header '{name}'.");
            var expected = Base64(value.ToString(), name);
            checks.Add(new Check(checksum, () => expected, a => Mismatch(a)));
        }

        var trailerName = request.Headers["x-amz-trailer"].ToString().Trim().ToLowerInvariant();
        if (trailerName.Length > 0)
        {
            if (chunked is null) throw S3Exception.InvalidRequest("x-amz-trailer needs an aws-chunked body (x-amz-content-sha256: STREAMING-…-TRAILER).");
            if (!trailerName.StartsWith(ChecksumHeaderPrefix, StringComparison.Ordinal) || Checksum.For(trailerName[ChecksumHeaderPrefix.Length..]) is not { } checksum)
                throw S3Exception.InvalidRequest($"Unsupported trailing checksum '{trailerName}'.");
            var owner = chunked;
            checks.Add(new Check(checksum,
                () => owner.Trailers.TryGetValue(trailerName, out var value) ? Base64(value, trailerName)
                    : throw S3Exception.InvalidRequest($"The body's trailer has no {trailerName}, which x-amz-trailer announced."),
                a => Mismatch(a)));
        }

        long? decodedLength = null;
        if (request.Headers.TryGetValue("x-amz-decoded-content-length", out var decoded))
            decodedLength = long.TryParse(decoded.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 0
                ? n : throw S3Exception.InvalidArgument("x-amz-decoded-content-length must be a whole number.");
        return checks.Count == 0 && (decodedLength is null || chunked is null) ? body : new VerifyingStream(body, checks, chunked is null ? null : decodedLength);
    }

    private static byte[] Base64(string value, string name) =>
        Convert.TryFromBase64String(value.Trim(), new byte[64], out _) ? Convert.FromBase64String(value.Trim())
            : throw S3Exception.InvalidRequest($"The value of {name} is not base64.");

    private static S3Exception Mismatch(string algorithm) =>
        S3Exception.BadDigest($"The {algorithm.ToUpperInvariant()} you specified did not match the calculated checksum.");

    private sealed record Check(Checksum Checksum, Func<byte[]> Expected, Func<string, S3Exception> Error);

    /// <summary>Feeds every byte to the checks; at the end (before returning 0) compares them and the length.</summary>
    private sealed class VerifyingStream(Stream inner, List<Check> checks, long? expectedLength) : Stream
    {
        private long _length;
        private bool _verified;

        public override async ValueTask<int> ReadAsync(Memory<byte> destination, CancellationToken ct = default)
        {
            var read = await inner.ReadAsync(destination, ct);
            if (read > 0)
            {
                var span = destination.Span[..read];
                foreach (var check in checks) check.Checksum.Append(span);
                _length += read;
                return read;
            }
            if (destination.Length > 0 && !_verified) Verify();
            return 0;
        }

        private void Verify()
        {
            _verified = true;
            if (expectedLength is { } expected && expected != _length)
                throw S3Exception.IncompleteBody($"x-amz-decoded-content-length says {expected} bytes but the body has {_length}.");
            foreach (var check in checks)
            {
                if (!CryptographicOperations.FixedTimeEquals(check.Checksum.Digest(), check.Expected()))
                    throw check.Error(Algorithm(check));
            }
        }

        private static string Algorithm(Check check) => check.Checksum.Name;

        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing) foreach (var check in checks) check.Checksum.Dispose();
            base.Dispose(disposing);
        }
    }
}
