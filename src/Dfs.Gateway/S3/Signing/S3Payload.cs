using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace Dfs.Gateway.S3.Signing;

/// <summary>The bytes of an object in a PUT or UploadPart body, decoded and verified as S3 does.</summary>
public static class S3Payload
{
    private const string ChecksumPrefix = "x-amz-checksum-";

    /// <summary>
    /// The stream of the object's bytes: the request body itself when there is nothing to check, or a stream that checks
    /// everything the request promised before it reports end-of-stream (so a caller that commits only after reading to the
    /// end never commits bad data). Payload modes, from the claim's payload hash (or the x-amz-content-sha256 header when
    /// anonymous):
    /// <list type="bullet">
    /// <item>STREAMING-AWS4-HMAC-SHA256-PAYLOAD: aws-chunked, each chunk's signature verified, chained from the seed signature, with <paramref name="signingKey"/>;</item>
    /// <item>STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER: the same, then the trailer, whose signature closes the chain;</item>
    /// <item>STREAMING-UNSIGNED-PAYLOAD-TRAILER: aws-chunked without signatures, then the trailer;</item>
    /// <item>a hex SHA-256: the plain body, whose SHA-256 must match (XAmzContentSHA256Mismatch);</item>
    /// <item>UNSIGNED-PAYLOAD (presigned URLs, and anonymous requests): the plain body, or unsigned aws-chunked when Content-Encoding says aws-chunked.</item>
    /// </list>
    /// One x-amz-checksum-* (crc32, crc32c, crc64nvme, sha1, sha256) in a header, or announced by x-amz-trailer and sent in
    /// the trailer, and Content-MD5, are verified over the decoded bytes (BadDigest); x-amz-decoded-content-length, when
    /// present, must equal the decoded byte count (IncompleteBody). The caller disposes the stream; the request body stays open.
    /// </summary>
    /// <param name="claim">The verified claim (<see cref="SigV4.Verify"/> has passed), or null for an anonymous request.</param>
    /// <param name="signingKey">The claim's signing key: required for the signed streaming payloads.</param>
    public static Stream OpenBody(HttpRequest request, SigV4Claim? claim, byte[]? signingKey)
    {
        var headers = request.Headers;
        var payload = claim?.PayloadHash ?? Single(headers["x-amz-content-sha256"], "x-amz-content-sha256");
        var awsChunked = IsAwsChunked(headers.ContentEncoding);
        var decodedLength = DecodedLength(headers["x-amz-decoded-content-length"]);
        var (headerAlgorithm, headerChecksum) = ChecksumHeader(headers);
        var trailer = TrailerName(headers["x-amz-trailer"]);
        if (trailer is not null && headerAlgorithm is not null)
            throw MultipleChecksums();
        var md5 = ContentMd5(headers);

        ChunkSignatureChain? chain = null;
        byte[]? sha256 = null;
        bool chunked, hasTrailer;
        switch (payload)
        {
            case SigV4.StreamingPayload or SigV4.StreamingPayloadTrailer:
                if (claim is null || claim.Presigned || signingKey is null)
                    throw S3Exception.InvalidRequest($"x-amz-content-sha256 {payload} needs a request signed with AWS Signature Version 4 in its Authorization header.");
                chain = new ChunkSignatureChain(signingKey, claim);
                chunked = true;
                hasTrailer = payload == SigV4.StreamingPayloadTrailer;
                break;
            case SigV4.StreamingUnsignedPayloadTrailer:
                chunked = hasTrailer = true;
                break;
            case SigV4.UnsignedPayload or null:
                chunked = awsChunked;
                hasTrailer = awsChunked && trailer is not null;
                break;
            default:
                if (!SigV4.IsHex64(payload))
                    throw S3Exception.InvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.");
                if (awsChunked)
                    throw S3Exception.InvalidRequest("Content-Encoding aws-chunked needs a STREAMING-* x-amz-content-sha256.");
                sha256 = Convert.FromHexString(payload);
                chunked = hasTrailer = false;
                break;
        }
        if (trailer is not null && !hasTrailer)
            throw S3Exception.InvalidRequest("x-amz-trailer needs an aws-chunked body with a trailer (x-amz-content-sha256 STREAMING-*-TRAILER).");

        S3ChecksumAlgorithm? trailerAlgorithm = null;
        if (trailer is not null && S3Checksum.TryParseHeaderName(trailer, out var parsed))
            trailerAlgorithm = parsed;
        var verifier = new PayloadVerifier(decodedLength, sha256, md5, headerAlgorithm ?? trailerAlgorithm, headerChecksum);
        if (chunked)
            return new AwsChunkedStream(request.Body, chain, hasTrailer, trailer, decodedLength, verifier);
        if (verifier.IsEmpty)
        {
            verifier.Dispose();
            return request.Body;
        }
        return new VerifiedBodyStream(request.Body, verifier);
    }

    private static bool IsAwsChunked(StringValues contentEncoding)
    {
        foreach (var value in contentEncoding)
        {
            foreach (var token in (value ?? "").Split(','))
            {
                if (token.Trim().Equals("aws-chunked", StringComparison.OrdinalIgnoreCase))
                    return true;
            }
        }
        return false;
    }

    private static long? DecodedLength(StringValues values)
    {
        if (values.Count == 0)
            return null;
        var value = Single(values, "x-amz-decoded-content-length");
        if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            throw S3Exception.InvalidArgument("x-amz-decoded-content-length must be a number of bytes.");
        return length;
    }

    /// <summary>The one x-amz-checksum-* header with a known algorithm, decoded (x-amz-checksum-type and -mode are not checksums).</summary>
    private static (S3ChecksumAlgorithm? Algorithm, byte[]? Value) ChecksumHeader(IHeaderDictionary headers)
    {
        (S3ChecksumAlgorithm? Algorithm, byte[]? Value) found = (null, null);
        foreach (var (name, values) in headers)
        {
            if (!name.StartsWith(ChecksumPrefix, StringComparison.OrdinalIgnoreCase) || !S3Checksum.TryParseHeaderName(name, out var algorithm))
                continue;
            if (found.Algorithm is not null || values.Count != 1)
                throw MultipleChecksums();
            var value = new byte[S3Checksum.Size(algorithm)];
            if (!Convert.TryFromBase64String(values[0] ?? "", value, out var written) || written != value.Length)
                throw S3Exception.InvalidRequest($"Value for {name.ToLowerInvariant()} header is invalid.");
            found = (algorithm, value);
        }
        return found;
    }

    /// <summary>The checksum trailer announced by x-amz-trailer; S3 accepts x-amz-checksum-* trailers only, one at a time.</summary>
    private static string? TrailerName(StringValues values)
    {
        string? found = null;
        foreach (var value in values)
        {
            foreach (var token in (value ?? "").Split(','))
            {
                var name = token.Trim().ToLowerInvariant();
                if (name.Length == 0)
                    continue;
                if (!S3Checksum.TryParseHeaderName(name, out _))
                    throw S3Exception.InvalidRequest("The value specified in the x-amz-trailer header is not supported");
                if (found is not null)
                    throw MultipleChecksums();
                found = name;
            }
        }
        return found;
    }

    private static byte[]? ContentMd5(IHeaderDictionary headers)
    {
        var values = headers.ContentMD5;
        if (values.Count == 0)
            return null;
        var md5 = new byte[16];
        if (values.Count != 1 || !Convert.TryFromBase64String(values[0] ?? "", md5, out var written) || written != 16)
            throw S3Exception.InvalidDigest("The Content-MD5 you specified was invalid.");
        return md5;
    }

    private static string? Single(StringValues values, string name) => values.Count switch
    {
        0 => null,
        1 => values[0],
        _ => throw S3Exception.InvalidArgument($"The {name} header may be given once."),
    };

    private static S3Exception MultipleChecksums() =>
        S3Exception.InvalidRequest("Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.");
}
