using System.Net;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Dfs.Gateway.S3;
using Dfs.Gateway.S3.Signing;
using Microsoft.AspNetCore.Http;
using static Dfs.Gateway.Tests.S3.SigningKit;

namespace Dfs.Gateway.Tests.S3;

/// <summary>
/// Round trips with the real AWS SDK for .NET: its requests are caught in-process by an <see cref="HttpMessageHandler"/>
/// (no server, no network), turned into the <see cref="HttpRequest"/> Kestrel would present, and checked as the gateway
/// will check them. Refusals go back as S3 error documents, so the SDK reports S3's codes.
/// </summary>
public sealed class AwsSdkSigningTests
{
    public static readonly TheoryData<string> Keys =
    [
        "plain.txt",
        "nested/dirs/deep/file.bin",
        "with space.txt",
        "dir with space/sub dir/file name.txt",
        "unicode/ünïcødé-файл-文件.txt",
        "plus+sign+key",
        "equals=sign&amp=x",
        "tilde~and-dash_under.dot",
        "percent%20literal%2F.txt",
        "mixed/ + = ~ % ! $ ' ( ) * , ; : @ [ ] #.txt",
        "trailing/slash/",
        "double//slash",
    ];

    /// <summary>The gateway's side of the wire: what it does with each request the SDK sends.</summary>
    private sealed class FakeS3 : HttpMessageHandler
    {
        public List<(HttpRequest Request, SigV4Claim Claim, byte[] Body)> Received { get; } = [];
        public string Secret { get; init; } = SigningKit.Secret;
        public byte[] ObjectBytes { get; init; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage message, CancellationToken cancellationToken)
        {
            var request = await ToHttpRequestAsync(message, cancellationToken);
            try
            {
                var claim = SigV4.Parse(request, DateTimeOffset.UtcNow) ?? throw S3Exception.AccessDenied("anonymous");
                var key = SigV4.SigningKey(Secret, claim.Scope);
                SigV4.Verify(claim, request, key);
                byte[] body;
                await using (var stream = S3Payload.OpenBody(request, claim, key))
                    body = await ReadAllAsync(stream, 1000);
                Received.Add((request, claim, body));
            }
            catch (S3Exception e)
            {
                return new HttpResponseMessage((HttpStatusCode)e.Status)
                {
                    Content = new StringContent($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{e.Code}</Code><Message>{WebUtility.HtmlEncode(e.Message)}</Message></Error>", Encoding.UTF8, "application/xml"),
                };
            }
            var response = new HttpResponseMessage(HttpStatusCode.OK);
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0123456789abcdef\"");
            if (request.Query.ContainsKey("list-type"))
                response.Content = new StringContent("<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>bucket</Name><KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>", Encoding.UTF8, "application/xml");
            else
                response.Content = new ByteArrayContent(request.Method == "GET" ? ObjectBytes : []);
            return response;
        }
    }

    private sealed class Factory(HttpMessageHandler handler) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(handler, disposeHandler: false);
        public override bool UseSDKHttpClientCaching(IClientConfig clientConfig) => false;
        public override bool DisposeHttpClientsAfterUse(IClientConfig clientConfig) => true;
    }

    /// <summary>The request as Kestrel would present it: the target as written on the wire, the Host header HttpClient writes.</summary>
    private static async Task<HttpRequest> ToHttpRequestAsync(HttpRequestMessage message, CancellationToken cancellationToken)
    {
        var uri = message.RequestUri!;
        var headers = new List<(string, string)>();
        foreach (var (name, values) in message.Headers.NonValidated)
            headers.AddRange(values.Select(v => (name, v)));
        if (message.Content is not null)
        {
            foreach (var (name, values) in message.Content.Headers.NonValidated)
                headers.AddRange(values.Select(v => (name, v)));
        }
        if (!headers.Any(h => h.Item1.Equals("Host", StringComparison.OrdinalIgnoreCase)))
            headers.Add(("Host", uri.Authority));
        var body = message.Content is null ? [] : await message.Content.ReadAsByteArrayAsync(cancellationToken);
        return Request(message.Method.Method, uri.PathAndQuery, headers, body);
    }

    private static AmazonS3Client Client(FakeS3 server, string scheme = "http", string secret = SigningKit.Secret,
        RequestChecksumCalculation? calculation = null) => new(
        new BasicAWSCredentials(AccessKey, secret),
        new AmazonS3Config
        {
            ServiceURL = $"{scheme}://localhost:9000",
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            HttpClientFactory = new Factory(server),
            MaxErrorRetry = 0,
            RequestChecksumCalculation = calculation ?? RequestChecksumCalculation.WHEN_SUPPORTED,
        });

    private static byte[] Data(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        return data;
    }

    [Theory, MemberData(nameof(Keys))]
    public async Task Put_get_and_head_of_any_key_verify(string key)
    {
        var data = Data(3000);
        var server = new FakeS3 { ObjectBytes = data };
        using var client = Client(server);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = key, InputStream = new MemoryStream(data) }, Ct);
        using (var get = await client.GetObjectAsync(new GetObjectRequest { BucketName = "bucket", Key = key, ByteRange = new ByteRange(0, 99) }, Ct))
            Assert.Equal(data, await ReadAllAsync(get.ResponseStream));
        await client.GetObjectMetadataAsync("bucket", key, Ct);
        await client.DeleteObjectAsync("bucket", key, Ct);

        Assert.Equal(4, server.Received.Count);
        Assert.Equal(data, server.Received[0].Body);
        Assert.All(server.Received, r => Assert.Equal("/bucket/" + key, r.Request.Path.Value));
    }

    [Theory]
    [InlineData("http", null, 100_000, false)]
    [InlineData("https", null, 100_000, false)]
    [InlineData("http", "CRC32", 300_000, false)]
    [InlineData("http", "CRC32C", 70_000, false)]
    [InlineData("https", "CRC32C", 70_000, true)]
    [InlineData("http", "SHA1", 1, false)]
    [InlineData("https", "SHA256", 200_000, true)]
    [InlineData("http", "CRC64NVME", 150_000, false)]
    [InlineData("https", "CRC64NVME", 0, false)]
    [InlineData("https", "CRC32", 300_000, true)]
    [InlineData("https", null, 1, true)]
    [InlineData("https", null, 0, true)]
    public async Task Streaming_uploads_decode_with_their_signatures_and_checksums(string scheme, string? checksum, int length, bool unsignedPayload)
    {
        var data = Data(length);
        var server = new FakeS3();
        using var client = Client(server, scheme);
        var request = new PutObjectRequest { BucketName = "bucket", Key = "dir/streamed object.bin", InputStream = new NonSeekable(data), UseChunkEncoding = true, DisablePayloadSigning = unsignedPayload };
        if (checksum is not null)
            request.ChecksumAlgorithm = new ChecksumAlgorithm(checksum);
        await client.PutObjectAsync(request, Ct);

        var (received, claim, body) = Assert.Single(server.Received);
        Assert.Equal(data, body);
        // The SDK signs every chunk and the trailer unless told not to sign the payload (allowed over HTTPS only).
        Assert.Equal(unsignedPayload ? SigV4.StreamingUnsignedPayloadTrailer : SigV4.StreamingPayloadTrailer, claim.PayloadHash);
        Assert.Equal($"x-amz-checksum-{(checksum ?? "CRC32").ToLowerInvariant()}", received.Headers["x-amz-trailer"]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    [InlineData(250_000)]
    public async Task Streaming_uploads_without_a_checksum_are_signed_chunks_alone(int length)
    {
        var data = Data(length);
        var server = new FakeS3();
        using var client = Client(server, calculation: RequestChecksumCalculation.WHEN_REQUIRED);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "k", InputStream = new NonSeekable(data), UseChunkEncoding = true }, Ct);
        var (received, claim, body) = Assert.Single(server.Received);
        Assert.Equal(data, body);
        Assert.Equal(SigV4.StreamingPayload, claim.PayloadHash);
        Assert.False(received.Headers.ContainsKey("x-amz-trailer"));
    }

    [Fact]
    public async Task Upload_parts_verify_with_their_query()
    {
        var data = Data(120_000);
        var server = new FakeS3();
        using var client = Client(server);
        await client.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "bucket", Key = "multi/part object", UploadId = "VXBsb2FkIElE+/=", PartNumber = 3, InputStream = new MemoryStream(data),
        }, Ct);
        var (received, _, body) = Assert.Single(server.Received);
        Assert.Equal(data, body);
        Assert.Equal("VXBsb2FkIElE+/=", Uri.UnescapeDataString(received.QueryString.Value!.Split("uploadId=")[1].Split('&')[0]));
    }

    [Fact]
    public async Task A_payload_signed_in_full_is_checked()
    {
        var server = new FakeS3();
        using var client = Client(server);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "signed", ContentBody = "hello", UseChunkEncoding = false }, Ct);
        var (_, claim, body) = Assert.Single(server.Received);
        Assert.Equal("hello", Encoding.UTF8.GetString(body));
        Assert.Equal(Sha256Hex("hello"), claim.PayloadHash);
    }

    [Theory]
    [InlineData("")]
    [InlineData("photos/2024/")]
    [InlineData("a b+c=d&e/ü~%")]
    public async Task Listing_queries_verify(string prefix)
    {
        var server = new FakeS3();
        using var client = Client(server);
        await client.ListObjectsV2Async(new ListObjectsV2Request
        {
            BucketName = "bucket", Prefix = prefix, Delimiter = "/", StartAfter = "x y+z", ContinuationToken = "1/2+3=4",
        }, Ct);
        var (received, _, _) = Assert.Single(server.Received);
        Assert.Equal("2", received.Query["list-type"]);
    }

    [Fact]
    public async Task A_wrong_secret_comes_back_as_SignatureDoesNotMatch()
    {
        var server = new FakeS3();
        using var client = Client(server, secret: "not the secret");
        var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.PutObjectAsync(new PutObjectRequest { BucketName = "bucket", Key = "k", ContentBody = "x" }, Ct));
        Assert.Equal("SignatureDoesNotMatch", e.ErrorCode);
        e = await Assert.ThrowsAsync<AmazonS3Exception>(() => client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "bucket", Key = "k", InputStream = new NonSeekable(Data(1000)), UseChunkEncoding = true,
        }, Ct));
        Assert.Equal("SignatureDoesNotMatch", e.ErrorCode);
    }

    [Theory, MemberData(nameof(Keys))]
    public async Task Presigned_URLs_of_any_key_verify(string key)
    {
        var server = new FakeS3();
        using var client = Client(server);
        foreach (var verb in new[] { HttpVerb.GET, HttpVerb.PUT, HttpVerb.HEAD, HttpVerb.DELETE })
        {
            var url = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
            {
                BucketName = "bucket", Key = key, Verb = verb, Expires = DateTime.UtcNow.AddHours(1), Protocol = Protocol.HTTP,
            });
            var request = PresignedRequest(url, verb.ToString());
            var claim = SigV4.Parse(request, DateTimeOffset.UtcNow)!;
            Assert.True(claim.Presigned);
            SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
            Assert.Equal("/bucket/" + key, request.Path.Value);

            request.Method = verb == HttpVerb.GET ? "PUT" : "GET";
            Fails("SignatureDoesNotMatch", () => SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope)));
        }
    }

    [Fact]
    public async Task Presigned_URLs_with_response_overrides_verify()
    {
        using var client = Client(new FakeS3());
        var presign = new GetPreSignedUrlRequest { BucketName = "bucket", Key = "report.pdf", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(10), Protocol = Protocol.HTTP };
        presign.ResponseHeaderOverrides.ContentDisposition = "attachment; filename=\"résumé final.pdf\"";
        presign.ResponseHeaderOverrides.ContentType = "application/pdf";
        var request = PresignedRequest(await client.GetPreSignedURLAsync(presign), "GET");
        var claim = SigV4.Parse(request, DateTimeOffset.UtcNow)!;
        SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
    }

    [Fact]
    public async Task Expired_and_future_presigned_URLs_are_refused()
    {
        using var client = Client(new FakeS3());
        var url = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "bucket", Key = "k", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddSeconds(60), Protocol = Protocol.HTTP,
        });
        var request = PresignedRequest(url, "GET");
        Assert.NotNull(SigV4.Parse(request, DateTimeOffset.UtcNow));
        Assert.Equal("Request has expired", Fails("AccessDenied", () => SigV4.Parse(request, DateTimeOffset.UtcNow.AddMinutes(2))).Message);
        Fails("AccessDenied", () => SigV4.Parse(request, DateTimeOffset.UtcNow.AddMinutes(-16)));

        var tooLong = await client.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "bucket", Key = "k", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddDays(6), Protocol = Protocol.HTTP,
        });
        Assert.NotNull(SigV4.Parse(PresignedRequest(tooLong, "GET"), DateTimeOffset.UtcNow.AddDays(5)));
    }

    /// <summary>A presigned URL as a plain HTTP client (curl, a browser) would send it: the target verbatim.</summary>
    private static HttpRequest PresignedRequest(string url, string method)
    {
        var uri = new Uri(url);
        var target = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        target = target[target.IndexOf('/')..];
        return Request(method, target, [("Host", uri.Authority)]);
    }

    /// <summary>A stream the SDK cannot seek or measure in advance, as an upload from a pipe: it must stream it in chunks.</summary>
    private sealed class NonSeekable(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
