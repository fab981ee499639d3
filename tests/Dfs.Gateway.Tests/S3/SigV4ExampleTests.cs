using System.Text;
using Dfs.Gateway.S3.Signing;
using Microsoft.AspNetCore.Http;
using static Dfs.Gateway.Tests.S3.SigningKit;

namespace Dfs.Gateway.Tests.S3;

/// <summary>The worked examples of AWS's SigV4 documentation for S3, reproduced request by request.</summary>
public sealed class SigV4ExampleTests
{
    private const string ExampleHost = "examplebucket.s3.amazonaws.com";
    private static readonly (string, string) Host = ("Host", ExampleHost);

    /// <summary>"GET Object": header authentication with a Range header (sig-v4-header-based-auth, example 1).</summary>
    public static HttpRequest GetObject() => Request("GET", "/test.txt",
    [
        Host,
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"),
        ("Range", "bytes=0-9"),
        ("x-amz-content-sha256", EmptySha256),
        ("x-amz-date", "20130524T000000Z"),
    ]);

    /// <summary>"PUT Object": a signed payload, the Date header signed too, and a '$' the client encodes in its canonical URI.</summary>
    public static HttpRequest PutObject(string body = "Welcome to Amazon S3.") => Request("PUT", "/test$file.text",
    [
        Host,
        ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("x-amz-content-sha256", "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"),
    ], Encoding.UTF8.GetBytes(body));

    public const string PresignedTarget = "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404";

    public const string StreamingSeed = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
    public static readonly string[] StreamingChunkSignatures =
    [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
    ];

    /// <summary>The body of the streaming example, 66560 bytes of 'a' in chunks of 65536 and 1024 and the final one, with AWS's chunk signatures.</summary>
    public static byte[] StreamingBody()
    {
        var body = new MemoryStream();
        var sizes = new[] { 65536, 1024, 0 };
        for (var i = 0; i < sizes.Length; i++)
        {
            Write(body, $"{sizes[i]:x};chunk-signature={StreamingChunkSignatures[i]}\r\n");
            body.Write(Enumerable.Repeat((byte)'a', sizes[i]).ToArray());
            Write(body, "\r\n");
        }
        return body.ToArray();
    }

    /// <summary>"PUT Object" in chunks (sigv4-streaming): the seed signature, then each chunk's chained on it.</summary>
    public static HttpRequest StreamingPut(byte[]? body = null) => Request("PUT", "/examplebucket/chunkObject.txt",
    [
        ("Host", "s3.amazonaws.com"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature={StreamingSeed}"),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824"),
    ], body ?? StreamingBody());

    [Fact]
    public void The_signing_key_is_derived_as_documented()
    {
        var scope = new SigV4Scope(AccessKey, "20130524", Region, "s3");
        Assert.Equal(Key(Secret, ExampleTime), SigV4.SigningKey(Secret, scope));
    }

    [Fact]
    public void The_GET_object_example_verifies()
    {
        var request = GetObject();
        var claim = SigV4.Parse(request, ExampleTime.AddMinutes(3))!;
        Assert.Equal(new SigV4Scope(AccessKey, "20130524", "us-east-1", "s3"), claim.Scope);
        Assert.Equal(["host", "range", "x-amz-content-sha256", "x-amz-date"], claim.SignedHeaders);
        Assert.Equal(ExampleTime, claim.RequestTime);
        Assert.Equal(EmptySha256, claim.PayloadHash);
        Assert.False(claim.Presigned);
        Assert.Null(claim.Expires);
        Assert.Equal("""
            GET
            /test.txt

            host:examplebucket.s3.amazonaws.com
            range:bytes=0-9
            x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            x-amz-date:20130524T000000Z

            host;range;x-amz-content-sha256;x-amz-date
            e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
            """.ReplaceLineEndings("\n"), SigV4.CanonicalRequest(claim, request));
        SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
    }

    [Fact]
    public async Task The_PUT_object_example_verifies_with_its_payload()
    {
        var request = PutObject();
        var claim = SigV4.Parse(request, ExampleTime)!;
        SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
        await using var body = S3Payload.OpenBody(request, claim, SigV4.SigningKey(Secret, claim.Scope));
        Assert.Equal("Welcome to Amazon S3.", Encoding.UTF8.GetString(await ReadAllAsync(body)));
    }

    [Theory]
    [InlineData("/?lifecycle", "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")]
    [InlineData("/?max-keys=2&prefix=J", "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")]
    public void The_bucket_examples_verify_with_their_queries(string target, string signature)
    {
        var request = Request("GET", target,
        [
            Host,
            ("Authorization", $"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature={signature}"),
            ("x-amz-content-sha256", EmptySha256),
            ("x-amz-date", "20130524T000000Z"),
        ]);
        var claim = SigV4.Parse(request, ExampleTime)!;
        SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
    }

    [Fact]
    public void The_presigned_URL_example_verifies()
    {
        var request = Request("GET", PresignedTarget, [Host]);
        var claim = SigV4.Parse(request, ExampleTime.AddHours(23))!;
        Assert.True(claim.Presigned);
        Assert.Equal(TimeSpan.FromSeconds(86400), claim.Expires);
        Assert.Equal("UNSIGNED-PAYLOAD", claim.PayloadHash);
        Assert.Equal(["host"], claim.SignedHeaders);
        Assert.Equal("""
            GET
            /test.txt
            X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host
            host:examplebucket.s3.amazonaws.com

            host
            UNSIGNED-PAYLOAD
            """.ReplaceLineEndings("\n"), SigV4.CanonicalRequest(claim, request));
        SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
    }

    [Fact]
    public void The_presigned_URL_example_expires_after_its_86400_seconds()
    {
        var request = Request("GET", PresignedTarget, [Host]);
        Assert.NotNull(SigV4.Parse(request, ExampleTime.AddSeconds(86400)));
        var e = Fails("AccessDenied", () => SigV4.Parse(request, ExampleTime.AddSeconds(86401)));
        Assert.Equal("Request has expired", e.Message);
        Assert.Equal(403, e.Status);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    [InlineData(1 << 20)]
    public async Task The_streaming_PUT_example_decodes_with_every_chunk_signature_checked(int readSize)
    {
        var request = StreamingPut();
        var claim = SigV4.Parse(request, ExampleTime)!;
        Assert.Equal("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", claim.PayloadHash);
        var key = SigV4.SigningKey(Secret, claim.Scope);
        SigV4.Verify(claim, request, key);

        await using var body = S3Payload.OpenBody(request, claim, key);
        Assert.IsType<AwsChunkedStream>(body);
        var data = await ReadAllAsync(body, readSize);
        Assert.Equal(66560, data.Length);
        Assert.All(data, b => Assert.Equal((byte)'a', b));
    }

    [Fact]
    public async Task The_streaming_example_signatures_are_what_an_independent_signer_computes()
    {
        // The tests' own signer agrees with AWS's published chunk signatures: the trailer tests below rely on it.
        var signer = new ChunkSigner(Key(Secret, ExampleTime), ExampleTime, StreamingSeed);
        Assert.Equal(StreamingBody(), Chunked(Enumerable.Repeat((byte)'a', 66560).ToArray(), 65536, signer));
        var request = StreamingPut();
        var claim = SigV4.Parse(request, ExampleTime)!;
        await using var body = S3Payload.OpenBody(request, claim, SigV4.SigningKey(Secret, claim.Scope));
        Assert.Equal(66560, (await ReadAllAsync(body)).Length);
    }
}
