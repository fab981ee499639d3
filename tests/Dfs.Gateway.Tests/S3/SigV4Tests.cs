using System.Text;
using Dfs.Gateway.S3;
using Dfs.Gateway.S3.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.Tests.S3;

/// <summary>Signature V4 and aws-chunked bodies against AWS's published examples, and every way of breaking them.</summary>
public sealed class SigV4Tests
{
    private const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    private static readonly DateTimeOffset ExampleTime = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);

    private static HttpRequest Request(string method, string host, string target, params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = method;
        var question = target.IndexOf('?');
        request.Path = Uri.UnescapeDataString(question < 0 ? target : target[..question]);
        if (question >= 0) request.QueryString = new QueryString(target[question..]);
        request.Host = new HostString(host);
        foreach (var (name, value) in headers) request.Headers.Append(name, value);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = target;
        return request;
    }

    private static HttpRequest GetObjectExample(string signature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41", string range = "bytes=0-9") =>
        Request("GET", "examplebucket.s3.amazonaws.com", "/test.txt",
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
                              $"SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature={signature}"),
            ("Range", range), ("x-amz-content-sha256", SigV4.EmptySha256), ("x-amz-date", "20130524T000000Z"));

    private static void Verify(HttpRequest request, DateTimeOffset now, string secret = Secret)
    {
        var claim = SigV4.Parse(request, now) ?? throw new InvalidOperationException("no claim");
        SigV4.Verify(claim, request, SigV4.SigningKey(secret, claim.Scope));
    }

    private static string CodeOf(Action action) => Assert.Throws<S3Exception>(action).Code;

    [Fact]
    public void AWSs_header_signed_GET_example_verifies_and_any_change_breaks_it()
    {
        Verify(GetObjectExample(), ExampleTime);
        var claim = SigV4.Parse(GetObjectExample(), ExampleTime)!;
        Assert.Equal("AKIAIOSFODNN7EXAMPLE", claim.Scope.AccessKeyId);
        Assert.False(claim.Presigned);

        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(GetObjectExample(range: "bytes=0-10"), ExampleTime)));
        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(GetObjectExample(), ExampleTime, Secret + "x")));
        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(GetObjectExample(signature: new string('0', 64)), ExampleTime)));
        var renamed = GetObjectExample();
        renamed.HttpContext.Features.Get<IHttpRequestFeature>()!.RawTarget = "/test.txs";
        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(renamed, ExampleTime)));
        var otherMethod = GetObjectExample();
        otherMethod.Method = "DELETE";
        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(otherMethod, ExampleTime)));
        Assert.Equal("RequestTimeTooSkewed", CodeOf(() => Verify(GetObjectExample(), ExampleTime.AddMinutes(16))));
    }

    [Fact]
    public void AWSs_presigned_GET_example_verifies_until_it_expires()
    {
        const string query = "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request" +
                             "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host" +
                             "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";
        HttpRequest Presigned(string q = query) => Request("GET", "examplebucket.s3.amazonaws.com", "/test.txt" + q);
        Verify(Presigned(), ExampleTime.AddHours(23));
        Assert.True(SigV4.Parse(Presigned(), ExampleTime)!.Presigned);
        Assert.Equal("AccessDenied", CodeOf(() => Verify(Presigned(), ExampleTime.AddHours(24).AddSeconds(1))));
        Assert.Equal("AccessDenied", CodeOf(() => Verify(Presigned(), ExampleTime.AddMinutes(-16))));
        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(Presigned(query.Replace("86400", "86401")), ExampleTime)));
        Assert.Equal("SignatureDoesNotMatch", CodeOf(() => Verify(Presigned(query + "&response-content-type=text%2Fplain"), ExampleTime)));
        Assert.Equal("AuthorizationQueryParametersError", CodeOf(() => Verify(Presigned(query.Replace("X-Amz-Expires=86400", "X-Amz-Expires=604801")), ExampleTime)));
    }

    [Fact]
    public void Malformed_and_unsupported_authorization_is_refused_with_S3s_codes()
    {
        Assert.Null(SigV4.Parse(Request("GET", "h", "/b/k"), ExampleTime));
        Assert.Equal("AccessDenied", CodeOf(() => SigV4.Parse(Request("GET", "h", "/b/k", ("Authorization", "AWS AKID:c2lnbmF0dXJl")), ExampleTime)));
        Assert.Equal("AuthorizationHeaderMalformed", CodeOf(() => SigV4.Parse(Request("GET", "h", "/b/k", ("Authorization", "Bearer x")), ExampleTime)));
        string Header(string credential, string signedHeaders = "host;x-amz-content-sha256;x-amz-date") =>
            $"AWS4-HMAC-SHA256 Credential={credential},SignedHeaders={signedHeaders},Signature=00";
        HttpRequest With(string authorization) => Request("GET", "h", "/b/k", ("Authorization", authorization),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", SigV4.EmptySha256));
        Assert.Equal("AuthorizationHeaderMalformed", CodeOf(() => SigV4.Parse(With(Header("AKID/20130524/us-east-1/ec2/aws4_request")), ExampleTime)));
        Assert.Equal("AuthorizationHeaderMalformed", CodeOf(() => SigV4.Parse(With(Header("AKID/2013-05-24/us-east-1/s3/aws4_request")), ExampleTime)));
        Assert.Equal("AuthorizationHeaderMalformed", CodeOf(() => SigV4.Parse(With(Header("AKID/20130525/us-east-1/s3/aws4_request")), ExampleTime)));
        Assert.Equal("AuthorizationHeaderMalformed", CodeOf(() => SigV4.Parse(With(Header("AKID/20130524/us-east-1/s3/aws4_request", "x-amz-date")), ExampleTime)));
        Assert.Equal("AuthorizationHeaderMalformed", CodeOf(() => SigV4.Parse(With("AWS4-HMAC-SHA256 Credential=AKID/20130524/us-east-1/s3/aws4_request"), ExampleTime)));
    }

    /// <summary>AWS's streaming example: 66,560 bytes of 'a' in chunks of 65,536 and 1,024, each chunk signed.</summary>
    private static (HttpRequest Request, byte[] Body) StreamingExample(Func<byte[], byte[]>? tamper = null)
    {
        const string seed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
        var body = new MemoryStream();
        void Chunk(int size, string signature)
        {
            body.Write(Encoding.ASCII.GetBytes($"{size:x};chunk-signature={signature}\r\n"));
            body.Write(Enumerable.Repeat((byte)'a', size).ToArray());
            body.Write("\r\n"u8);
        }
        Chunk(65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648");
        Chunk(1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497");
        Chunk(0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9");
        var bytes = tamper?.Invoke(body.ToArray()) ?? body.ToArray();
        var request = Request("PUT", "s3.amazonaws.com", "/examplebucket/chunkObject.txt",
            ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request," +
                              "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class," +
                              $"Signature={seed}"),
            ("x-amz-date", "20130524T000000Z"), ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"), ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"));
        request.Body = new MemoryStream(bytes);
        return (request, bytes);
    }

    private static async Task<byte[]> ReadPayloadAsync(HttpRequest request, int readSize)
    {
        var claim = SigV4.Parse(request, ExampleTime)!;
        var key = SigV4.SigningKey(Secret, claim.Scope);
        SigV4.Verify(claim, request, key);
        var body = S3Payload.OpenBody(request, claim, key);
        var output = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await body.ReadAsync(buffer, TestContext.Current.CancellationToken)) > 0) output.Write(buffer, 0, read);
        return output.ToArray();
    }

    [Theory]
    [InlineData(1)]
    [InlineData(1000)]
    [InlineData(1 << 20)]
    public async Task AWSs_streaming_example_decodes_to_its_bytes_at_any_read_size(int readSize)
    {
        var (request, _) = StreamingExample();
        Assert.Equal(Enumerable.Repeat((byte)'a', 66560).ToArray(), await ReadPayloadAsync(request, readSize));
    }

    [Fact]
    public async Task A_tampered_or_broken_aws_chunked_body_is_refused_before_its_end()
    {
        async Task<string> Code(Func<byte[], byte[]> tamper) =>
            (await Assert.ThrowsAsync<S3Exception>(() => ReadPayloadAsync(StreamingExample(tamper).Request, 4096))).Code;
        var dataStart = "10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n".Length;
        Assert.Equal("SignatureDoesNotMatch", await Code(b => { b[dataStart + 10] = (byte)'b'; return b; }));
        Assert.Equal("SignatureDoesNotMatch", await Code(b => Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(b).Replace("0055627c", "1055627c"))));
        Assert.Equal("IncompleteBody", await Code(b => b[..^40]));
        Assert.Equal("IncompleteBody", await Code(b => Encoding.ASCII.GetBytes(Encoding.ASCII.GetString(b).Replace("400;chunk", "4g0;chunk"))));
        Assert.Equal("IncompleteBody", await Code(b => { b[dataStart + 65536] = (byte)'X'; return b; }));
        Assert.Equal("IncompleteBody", await Code(b => Encoding.ASCII.GetBytes(new string('1', 5000) + "\r\n").Concat(b).ToArray()));
    }

    [Fact]
    public async Task Unsigned_chunks_with_a_trailing_checksum_are_checked_and_plain_bodies_against_their_hex_sha256()
    {
        var data = Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray();
        using var crc = Checksum.For("crc32")!;
        crc.Append(data);
        var good = Convert.ToBase64String(crc.Digest());
        HttpRequest Trailer(string checksum)
        {
            var body = new MemoryStream();
            body.Write(Encoding.ASCII.GetBytes($"{60000:x}\r\n")); body.Write(data.AsSpan(0, 60000)); body.Write("\r\n"u8);
            body.Write(Encoding.ASCII.GetBytes($"{40000:x}\r\n")); body.Write(data.AsSpan(60000)); body.Write("\r\n"u8);
            body.Write(Encoding.ASCII.GetBytes($"0\r\nx-amz-checksum-crc32:{checksum}\r\n\r\n"));
            var request = Request("PUT", "h", "/b/k", ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), ("Content-Encoding", "aws-chunked"),
                ("x-amz-trailer", "x-amz-checksum-crc32"), ("x-amz-decoded-content-length", "100000"));
            request.Body = new MemoryStream(body.ToArray());
            return request;
        }
        async Task<byte[]> Read(HttpRequest request)
        {
            var output = new MemoryStream();
            await S3Payload.OpenBody(request, null, null).CopyToAsync(output, TestContext.Current.CancellationToken);
            return output.ToArray();
        }
        Assert.Equal(data, await Read(Trailer(good)));
        Assert.Equal("BadDigest", (await Assert.ThrowsAsync<S3Exception>(() => Read(Trailer(Convert.ToBase64String(new byte[4]))))).Code);

        var hex = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(data));
        HttpRequest Plain(string sha, byte[] body)
        {
            var request = Request("PUT", "h", "/b/k", ("x-amz-content-sha256", sha));
            request.Body = new MemoryStream(body);
            return request;
        }
        Assert.Equal(data, await Read(Plain(hex, data)));
        var changed = (byte[])data.Clone();
        changed[^1] ^= 1;
        Assert.Equal("XAmzContentSHA256Mismatch", (await Assert.ThrowsAsync<S3Exception>(() => Read(Plain(hex, changed)))).Code);
    }

    [Theory]
    [InlineData("crc32", "cbf43926")]
    [InlineData("crc32c", "e3069283")]
    [InlineData("crc64nvme", "ae8b14860a799888")]
    [InlineData("sha1", "f7c3bc1d808e04732adf679965ccc34ca7ae3441")]
    public void Checksums_give_their_check_values(string algorithm, string expected)
    {
        using var checksum = Checksum.For(algorithm)!;
        checksum.Append("1234"u8);
        checksum.Append("56789"u8);
        Assert.Equal(expected, Convert.ToHexStringLower(checksum.Digest()));
    }
}
