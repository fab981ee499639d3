using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using System.Text;
using Dfs.Gateway.S3;
using Dfs.Gateway.S3.Signing;
using Microsoft.AspNetCore.Http;
using static Dfs.Gateway.Tests.S3.SigningKit;

namespace Dfs.Gateway.Tests.S3;

/// <summary>Bodies of PUT and UploadPart: aws-chunked framing, trailers, checksums, and that every refusal comes before the end.</summary>
public sealed class S3PayloadTests
{
    private static readonly byte[] Data = RandomData(150_000, 7);

    private static byte[] RandomData(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    private static string Crc32Base64(byte[] data)
    {
        var value = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(value, Crc32.HashToUInt32(data));
        return Convert.ToBase64String(value);
    }

    /// <summary>A signed streaming request (header-signed by the tests' signer) whose body <paramref name="body"/> builds from the seed signer.</summary>
    private static (HttpRequest Request, SigV4Claim Claim, byte[] Key) SignedStreaming(string payload, Func<ChunkSigner, byte[]> body,
        long? decodedLength = null, params (string, string)[] headers)
    {
        var all = new List<(string, string)> { ("Content-Encoding", "aws-chunked") };
        if (decodedLength is { } length)
            all.Add(("x-amz-decoded-content-length", length.ToString()));
        all.AddRange(headers);
        var request = Signed("PUT", "/bucket/object", payload, all);
        var claim = SigV4.Parse(request, ExampleTime)!;
        var key = SigV4.SigningKey(Secret, claim.Scope);
        SigV4.Verify(claim, request, key);
        request.Body = new MemoryStream(body(new ChunkSigner(key, ExampleTime, claim.Signature)));
        return (request, claim, key);
    }

    private static HttpRequest Unsigned(byte[] wire, params (string, string)[] headers) => Request("PUT", "/bucket/object",
        [("Host", "h"), ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("Content-Encoding", "aws-chunked"), .. headers], wire);

    private static async Task<byte[]> DecodeAsync(HttpRequest request, SigV4Claim? claim = null, byte[]? key = null, int readSize = 81920)
    {
        await using var body = S3Payload.OpenBody(request, claim, key);
        return await ReadAllAsync(body, readSize);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(1000)]
    [InlineData(65536)]
    [InlineData(1 << 20)]
    public async Task Signed_chunks_with_a_signed_trailer_decode_alike_at_any_read_size(int readSize)
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer,
            signer => Chunked(Data, 65536, signer, trailer: true, ("x-amz-checksum-crc32", Crc32Base64(Data))),
            Data.Length, ("x-amz-trailer", "x-amz-checksum-crc32"));
        await using var body = S3Payload.OpenBody(request, claim, key);
        Assert.Equal(Data, await ReadAllAsync(body, readSize));
        var chunked = Assert.IsType<AwsChunkedStream>(body);
        Assert.Equal(Crc32Base64(Data), chunked.Trailers["x-amz-checksum-crc32"]);
        Assert.Equal(Data.Length, chunked.DecodedBytes);
        Assert.Equal(0, await body.ReadAsync(new byte[10], Ct)); // the end stays the end
    }

    /// <summary>An inner stream that delivers at most <paramref name="piece"/> bytes a read, as a slow network does.</summary>
    private sealed class Trickle(byte[] data, int piece) : MemoryStream(data)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(piece, buffer.Length)]);
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(piece, count));
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            base.ReadAsync(buffer[..Math.Min(piece, buffer.Length)], cancellationToken);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(1, 4096)]
    [InlineData(2, 5)]
    [InlineData(7, 100_000)]
    [InlineData(89, 3)]
    [InlineData(4095, 65536)]
    public async Task A_body_arriving_in_small_pieces_decodes_alike(int piece, int readSize)
    {
        var data = Data.AsSpan(0, 20_000).ToArray();
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer,
            signer => Chunked(data, 8192, signer, trailer: true, ("x-amz-checksum-crc32", Crc32Base64(data))),
            data.Length, ("x-amz-trailer", "x-amz-checksum-crc32"));
        request.Body = new Trickle(((MemoryStream)request.Body).ToArray(), piece);
        Assert.Equal(data, await DecodeAsync(request, claim, key, readSize));

        request.Body = new Trickle(Chunked(data, 3000, null, trailer: true, ("x-amz-checksum-crc32", Crc32Base64(data))), piece);
        request.Headers["x-amz-content-sha256"] = SigV4.StreamingUnsignedPayloadTrailer;
        Assert.Equal(data, await DecodeAsync(request, null, null, readSize));
    }

    [Fact]
    public void Synchronous_reads_decode_too()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayload, signer => Chunked(Data, 8192, signer), Data.Length);
        using var body = S3Payload.OpenBody(request, claim, key);
        var result = new MemoryStream();
        var buffer = new byte[777];
        int read;
        while ((read = body.Read(buffer, 0, buffer.Length)) > 0)
            result.Write(buffer, 0, read);
        Assert.Equal(Data, result.ToArray());
    }

    [Fact]
    public async Task An_empty_object_is_one_final_chunk()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer,
            signer => Chunked([], 65536, signer, trailer: true, ("x-amz-checksum-crc32", "AAAAAA==")), 0, ("x-amz-trailer", "x-amz-checksum-crc32"));
        Assert.Empty(await DecodeAsync(request, claim, key));
        Assert.Empty(await DecodeAsync(Unsigned("0\r\n\r\n"u8.ToArray())));
    }

    [Theory]
    [InlineData(S3ChecksumAlgorithm.Crc32)]
    [InlineData(S3ChecksumAlgorithm.Crc32C)]
    [InlineData(S3ChecksumAlgorithm.Crc64Nvme)]
    [InlineData(S3ChecksumAlgorithm.Sha1)]
    [InlineData(S3ChecksumAlgorithm.Sha256)]
    public async Task Unsigned_chunks_with_each_checksum_trailer_decode_and_a_wrong_one_is_BadDigest(S3ChecksumAlgorithm algorithm)
    {
        using var checksum = new S3Checksum(algorithm);
        checksum.Append(Data);
        var name = S3Checksum.HeaderName(algorithm);
        var good = Chunked(Data, 50_000, null, trailer: true, (name, checksum.GetCurrentBase64()));
        Assert.Equal(Data, await DecodeAsync(Unsigned(good, ("x-amz-trailer", name), ("x-amz-decoded-content-length", Data.Length.ToString()))));

        using var other = new S3Checksum(algorithm);
        other.Append(Data.AsSpan(1));
        var bad = Chunked(Data, 50_000, null, trailer: true, (name, other.GetCurrentBase64()));
        await using var body = S3Payload.OpenBody(Unsigned(bad, ("x-amz-trailer", name)), null, null);
        var buffer = new byte[Data.Length + 1];
        var total = 0;
        // Every byte comes out, then the refusal instead of the end.
        var e = await FailsAsync("BadDigest", async () => { while (true) total += await body.ReadAsync(buffer.AsMemory(total), Ct) is var n and > 0 ? n : throw new InvalidOperationException("end reported"); });
        Assert.Equal(Data.Length, total);
        Assert.Equal($"The {S3Checksum.Name(algorithm)} you specified did not match the calculated checksum.", e.Message);
    }

    [Fact]
    public async Task A_changed_trailer_checksum_fails_the_trailer_signature()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer,
            signer => Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(Chunked(Data, 65536, signer, trailer: true, ("x-amz-checksum-crc32", Crc32Base64(Data))))
                .Replace("x-amz-checksum-crc32:" + Crc32Base64(Data), "x-amz-checksum-crc32:AAAAAA==")), null, ("x-amz-trailer", "x-amz-checksum-crc32"));
        Assert.Contains("trailer", (await FailsAsync("SignatureDoesNotMatch", () => DecodeAsync(request, claim, key))).Message);
    }

    [Fact]
    public async Task A_changed_trailer_signature_does_not_match()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer, signer =>
        {
            var wire = Encoding.Latin1.GetString(Chunked(Data, 65536, signer, trailer: true, ("x-amz-checksum-crc32", Crc32Base64(Data))));
            var at = wire.IndexOf("x-amz-trailer-signature:", StringComparison.Ordinal) + "x-amz-trailer-signature:".Length;
            return Encoding.Latin1.GetBytes(wire[..at] + (wire[at] == 'a' ? 'b' : 'a') + wire[(at + 1)..]);
        }, null, ("x-amz-trailer", "x-amz-checksum-crc32"));
        await FailsAsync("SignatureDoesNotMatch", () => DecodeAsync(request, claim, key));
    }

    [Fact]
    public async Task A_signed_checksum_that_does_not_match_the_data_is_BadDigest()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer,
            signer => Chunked(Data, 65536, signer, trailer: true, ("x-amz-checksum-crc32", "AAAAAA==")), null, ("x-amz-trailer", "x-amz-checksum-crc32"));
        Assert.Equal("The CRC32 you specified did not match the calculated checksum.", (await FailsAsync("BadDigest", () => DecodeAsync(request, claim, key))).Message);
    }

    [Fact]
    public async Task A_signed_trailer_needs_its_signature()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayloadTrailer, signer => Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(
            Chunked(Data, 65536, signer, trailer: true, ("x-amz-checksum-crc32", Crc32Base64(Data)))).Split("x-amz-trailer-signature")[0] + "\r\n"),
            null, ("x-amz-trailer", "x-amz-checksum-crc32"));
        await FailsAsync("MalformedTrailerError", () => DecodeAsync(request, claim, key));
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32c:AAAAAA==\r\n\r\n")] // not the announced one
    [InlineData("\r\n")] // the announced one is missing
    [InlineData("x-amz-checksum-crc32:AAAAAA==\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n")] // twice
    [InlineData("x-amz-checksum-crc32\r\n\r\n")] // no value
    [InlineData(":AAAAAA==\r\n\r\n")] // no name
    [InlineData("x-amz-trailer-signature:00\r\n\r\n")] // a signature in an unsigned body
    public async Task A_malformed_trailer_is_MalformedTrailerError(string trailer)
    {
        var wire = Bytes("5\r\nhello\r\n0\r\n" + trailer);
        await FailsAsync("MalformedTrailerError", () => DecodeAsync(Unsigned(wire, ("x-amz-trailer", "x-amz-checksum-crc32"))));
    }

    [Theory]
    [InlineData("x-amz-checksum-crc32:AAAA\r\n\r\n")]
    [InlineData("x-amz-checksum-crc32:not base64!\r\n\r\n")]
    [InlineData("x-amz-checksum-crc32:AAAAAAAAAAA=\r\n\r\n")]
    public async Task An_invalid_trailer_checksum_value_is_InvalidRequest(string trailer)
    {
        var wire = Bytes("5\r\nhello\r\n0\r\n" + trailer);
        Assert.Contains("x-amz-checksum-crc32", (await FailsAsync("InvalidRequest", () => DecodeAsync(Unsigned(wire, ("x-amz-trailer", "x-amz-checksum-crc32"))))).Message);
    }

    [Fact]
    public async Task Trailers_are_refused_where_none_were_announced()
    {
        var wire = Bytes("5\r\nhello\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n");
        await FailsAsync("MalformedTrailerError", () => DecodeAsync(Unsigned(wire)));
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayload, signer => Encoding.Latin1.GetBytes(Encoding.Latin1.GetString(Chunked(Bytes("hello"), 100, signer))[..^2] + "x-amz-checksum-crc32:NhCmhg==\r\n\r\n"));
        await FailsAsync("MalformedTrailerError", () => DecodeAsync(request, claim, key));
    }

    [Theory]
    [InlineData("5\r\nhello0\r\n\r\n", "InvalidRequest")] // no CRLF after the data
    [InlineData("5\r\nhelloX\r\n0\r\n\r\n", "InvalidRequest")] // more data than the size
    [InlineData("4\r\nhello\r\n0\r\n\r\n", "InvalidRequest")]
    [InlineData("zz\r\nhello\r\n0\r\n\r\n", "InvalidRequest")] // size not hex
    [InlineData("\r\nhello\r\n0\r\n\r\n", "InvalidRequest")] // no size
    [InlineData(" 5\r\nhello\r\n0\r\n\r\n", "InvalidRequest")]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n", "InvalidRequest")]
    [InlineData("10000000000000000\r\nhello\r\n0\r\n\r\n", "InvalidRequest")] // 17 hex digits
    [InlineData("8000000000000000\r\nhello\r\n0\r\n\r\n", "InvalidRequest")] // beyond a long
    [InlineData("5\nhello\r\n0\r\n\r\n", "InvalidRequest")] // LF without CR
    [InlineData("5\r\nhello\r\n0\r\n\r\nextra", "InvalidRequest")] // data after the end
    [InlineData("5\r\nhello\r\n0\r\n\r\n\r\n", "InvalidRequest")]
    [InlineData("5\r\nhel", "IncompleteBody")] // truncated in the data
    [InlineData("5\r\nhello", "IncompleteBody")] // truncated before the CRLF
    [InlineData("5\r\nhello\r\n", "IncompleteBody")] // no final chunk
    [InlineData("5\r\nhello\r\n0\r\n", "IncompleteBody")] // no final CRLF
    [InlineData("5\r\nhello\r\n0", "IncompleteBody")]
    [InlineData("", "IncompleteBody")]
    public async Task Bad_framing_is_refused_never_a_short_read(string wire, string code)
    {
        foreach (var piece in new[] { 1, 2, 1 << 20 })
        {
            var request = Request("PUT", "/b/k", [("Host", "h"), ("Content-Encoding", "aws-chunked")]);
            request.Body = new Trickle(Bytes(wire), piece);
            var e = await FailsAsync(code, () => DecodeAsync(request, readSize: 3));
            Assert.Equal(400, e.Status);
        }
    }

    [Fact]
    public async Task A_chunk_header_line_is_bounded()
    {
        var huge = new string('a', 100_000);
        var e = await FailsAsync("InvalidRequest", () => DecodeAsync(Unsigned(Bytes(huge))));
        Assert.Contains("longer than", e.Message);
        e = await FailsAsync("InvalidRequest", () => DecodeAsync(Unsigned(Bytes("5;" + new string('x', 5000) + "\r\nhello\r\n0\r\n\r\n"))));
        Assert.Contains("longer than", e.Message);
        // Extensions of unsigned chunks are allowed (and mean nothing) within the bound, whatever the read size.
        Assert.Equal("hello", Encoding.ASCII.GetString(await DecodeAsync(Unsigned(Bytes("5;ext=1\r\nhello\r\n0\r\n\r\n")))));
        var longest = "5;" + new string('x', AwsChunkedStream.MaxLineLength - 2) + "\r\nhello\r\n0\r\n\r\n";
        Assert.Equal("hello", Encoding.ASCII.GetString(await DecodeAsync(Unsigned(Bytes(longest)), readSize: 1)));
        await FailsAsync("InvalidRequest", () => DecodeAsync(Unsigned(Bytes(longest.Replace("5;", "5;x")))));
    }

    [Fact]
    public async Task Signed_chunks_need_their_signature()
    {
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayload, _ => Bytes("5\r\nhello\r\n0\r\n\r\n"));
        Assert.Contains("chunk-signature", (await FailsAsync("InvalidRequest", () => DecodeAsync(request, claim, key))).Message);
        (request, claim, key) = SignedStreaming(SigV4.StreamingPayload, _ => Bytes("5;chunk-signature=abc\r\nhello\r\n0\r\n\r\n"));
        await FailsAsync("InvalidRequest", () => DecodeAsync(request, claim, key));
    }

    [Fact]
    public async Task The_decoded_length_must_match()
    {
        var wire = Chunked(Data, 65536, null, trailer: true);
        await FailsAsync("IncompleteBody", () => DecodeAsync(Unsigned(wire, ("x-amz-decoded-content-length", (Data.Length + 1).ToString()))));

        // A chunk beyond the announced length is refused before any of its bytes go out.
        await using var body = S3Payload.OpenBody(Unsigned(wire, ("x-amz-decoded-content-length", "100000")), null, null);
        var buffer = new byte[Data.Length];
        var total = 0;
        await FailsAsync("IncompleteBody", async () => { while (true) total += await body.ReadAsync(buffer.AsMemory(total), Ct) is var n and > 0 ? n : throw new InvalidOperationException("end reported"); });
        Assert.Equal(65536, total);

        await FailsAsync("InvalidArgument", () => DecodeAsync(Unsigned(wire, ("x-amz-decoded-content-length", "-1"))));
    }

    [Fact]
    public void Streaming_signed_payloads_need_a_header_signed_claim()
    {
        var wire = Chunked(Data, 65536, null);
        var request = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", SigV4.StreamingPayload)], wire);
        Fails("InvalidRequest", () => S3Payload.OpenBody(request, null, null));
        var presigned = new SigV4Claim(new SigV4Scope(AccessKey, "20130524", Region, "s3"), ["host"], new string('0', 64), ExampleTime, SigV4.StreamingPayload, true, TimeSpan.FromHours(1));
        Fails("InvalidRequest", () => S3Payload.OpenBody(request, presigned, Key(Secret, ExampleTime)));
    }

    [Fact]
    public async Task An_anonymous_aws_chunked_body_decodes_unsigned()
    {
        var wire = Chunked(Data, 1000, null);
        Assert.Equal(Data, await DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("Content-Encoding", "gzip, aws-chunked")], wire)));
        Assert.Equal(Data, await DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"), ("Content-Encoding", "aws-chunked")], wire)));
    }

    [Fact]
    public void A_plain_body_with_nothing_to_check_is_the_request_body_itself()
    {
        var request = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", "UNSIGNED-PAYLOAD")], Data);
        Assert.Same(request.Body, S3Payload.OpenBody(request, null, null));
        var presigned = Request("PUT", "/b/k", [("Host", "h")], Data);
        var claim = new SigV4Claim(new SigV4Scope(AccessKey, "20130524", Region, "s3"), ["host"], new string('0', 64), ExampleTime, "UNSIGNED-PAYLOAD", true, TimeSpan.FromHours(1));
        Assert.Same(presigned.Body, S3Payload.OpenBody(presigned, claim, Key(Secret, ExampleTime)));
    }

    [Fact]
    public async Task A_plain_body_is_checked_against_its_hash_checksum_and_MD5()
    {
        var sha = Sha256Hex(Data);
        var md5 = Convert.ToBase64String(MD5.HashData(Data));
        var crc = Crc32Base64(Data);
        Assert.Equal(Data, await DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", sha), ("Content-MD5", md5), ("x-amz-checksum-crc32", crc)], Data), readSize: 1000));

        var changed = Data.ToArray();
        changed[^1] ^= 0x80;
        await FailsAsync("XAmzContentSHA256Mismatch", () => DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", sha)], changed)));
        Assert.Equal("The Content-MD5 you specified did not match what we received.",
            (await FailsAsync("BadDigest", () => DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("Content-MD5", md5)], changed)))).Message);
        Assert.Equal("The CRC32 you specified did not match the calculated checksum.",
            (await FailsAsync("BadDigest", () => DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-crc32", crc)], changed)))).Message);
        await FailsAsync("IncompleteBody", () => DecodeAsync(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-decoded-content-length", "5")], changed)));
    }

    [Fact]
    public void Bad_checksum_headers_are_refused_up_front()
    {
        Fails("InvalidRequest", () => S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-crc32", "AAAAAA=="), ("x-amz-checksum-sha1", "2jmj7l5rSw0yVb/vlWAYkK/YBwk=")]), null, null));
        Fails("InvalidRequest", () => S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-crc32", "AAAA")]), null, null));
        Fails("InvalidDigest", () => S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("Content-MD5", "nope")]), null, null));
        Fails("InvalidRequest", () => S3Payload.OpenBody(Unsigned([], ("x-amz-trailer", "x-amz-meta-color")), null, null));
        Fails("InvalidRequest", () => S3Payload.OpenBody(Unsigned([], ("x-amz-trailer", "x-amz-checksum-crc32, x-amz-checksum-sha1")), null, null));
        Fails("InvalidRequest", () => S3Payload.OpenBody(Unsigned([], ("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-checksum-crc32", "AAAAAA==")), null, null));
        Fails("InvalidRequest", () => S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", EmptySha256), ("x-amz-trailer", "x-amz-checksum-crc32")]), null, null));
        Fails("InvalidRequest", () => S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", EmptySha256), ("Content-Encoding", "aws-chunked")]), null, null));
        Fails("InvalidArgument", () => S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", "whatever")]), null, null));
        // x-amz-checksum-mode and -type are not checksums.
        var request = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-checksum-type", "FULL_OBJECT"), ("x-amz-checksum-mode", "ENABLED")]);
        Assert.Same(request.Body, S3Payload.OpenBody(request, null, null));
    }

    [Fact]
    public async Task A_failed_stream_keeps_failing()
    {
        await using var body = S3Payload.OpenBody(Request("PUT", "/b/k", [("Host", "h"), ("Content-Encoding", "aws-chunked")], Bytes("5\r\nhel")), null, null);
        var buffer = new byte[10];
        Assert.Equal(3, await body.ReadAsync(buffer, Ct));
        await FailsAsync("IncompleteBody", () => ReadOnceAsync(body, buffer));
        await FailsAsync("IncompleteBody", () => ReadOnceAsync(body, buffer));
    }

    [Fact]
    public async Task Big_chunks_stream_through_without_being_buffered_whole()
    {
        // 8 MiB in one chunk, read 64 KiB at a time: it must come out in pieces, as the wire delivers it.
        var big = RandomData(8 << 20, 3);
        var (request, claim, key) = SignedStreaming(SigV4.StreamingPayload, signer => Chunked(big, big.Length, signer), big.Length);
        await using var body = S3Payload.OpenBody(request, claim, key);
        var buffer = new byte[65536];
        var first = await body.ReadAsync(buffer, Ct);
        Assert.InRange(first, 1, 65536);
        var rest = await ReadAllAsync(body, 65536);
        Assert.True(big.AsSpan().SequenceEqual([.. buffer.AsSpan(0, first), .. rest]));
    }
}
