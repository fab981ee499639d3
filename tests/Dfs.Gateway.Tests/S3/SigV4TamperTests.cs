using Dfs.Gateway.S3.Signing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using static Dfs.Gateway.Tests.S3.SigningKit;

namespace Dfs.Gateway.Tests.S3;

/// <summary>A signed request changed in any signed part, or checked with another secret, is refused.</summary>
public sealed class SigV4TamperTests
{
    private static void Refused(HttpRequest request, string secret = Secret)
    {
        var claim = SigV4.Parse(request, ExampleTime)!;
        var e = Fails("SignatureDoesNotMatch", () => SigV4.Verify(claim, request, SigV4.SigningKey(secret, claim.Scope)));
        Assert.Equal(403, e.Status);
    }

    private static void Retarget(HttpRequest request, string target)
    {
        var question = target.IndexOf('?');
        request.Path = PathString.FromUriComponent(question < 0 ? target : target[..question]);
        request.QueryString = question < 0 ? QueryString.Empty : new QueryString(target[question..]);
        request.HttpContext.Features.Get<IHttpRequestFeature>()!.RawTarget = target;
    }

    [Fact]
    public void The_untouched_example_verifies() => SigV4.Verify(SigV4.Parse(SigV4ExampleTests.GetObject(), ExampleTime)!, SigV4ExampleTests.GetObject(), Key(Secret, ExampleTime));

    [Fact]
    public void A_wrong_secret_does_not_match() => Refused(SigV4ExampleTests.GetObject(), "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEZ");

    [Theory]
    [InlineData("HEAD")]
    [InlineData("DELETE")]
    [InlineData("get")]
    public void Another_method_does_not_match(string method)
    {
        var request = SigV4ExampleTests.GetObject();
        request.Method = method;
        Refused(request);
    }

    [Theory]
    [InlineData("/test.txT")]
    [InlineData("/test.txt/")]
    [InlineData("/other/test.txt")]
    [InlineData("/test%2Etxt%2F")]
    [InlineData("/test.txt?acl")]
    [InlineData("/test.txt?versionId=1")]
    public void Another_path_or_query_does_not_match(string target)
    {
        var request = SigV4ExampleTests.GetObject();
        Retarget(request, target);
        Refused(request);
    }

    [Fact]
    public void Percent_encoding_of_unreserved_characters_does_not_change_the_path()
    {
        // %2E is '.', which the AWS rule writes plainly: the canonical URI is the same, as at S3.
        var request = SigV4ExampleTests.GetObject();
        Retarget(request, "/test%2Etxt");
        SigV4.Verify(SigV4.Parse(request, ExampleTime)!, request, Key(Secret, ExampleTime));
    }

    [Theory]
    [InlineData("Range", "bytes=0-10")]
    [InlineData("Host", "examplebucket.s3.amazonaws.com:443")]
    [InlineData("Host", "otherbucket.s3.amazonaws.com")]
    [InlineData("x-amz-content-sha256", "UNSIGNED-PAYLOAD")]
    public void A_changed_signed_header_does_not_match(string name, string value)
    {
        var request = SigV4ExampleTests.GetObject();
        request.Headers[name] = value;
        Refused(request);
    }

    [Fact]
    public void A_removed_signed_header_does_not_match()
    {
        var request = SigV4ExampleTests.GetObject();
        request.Headers.Remove("Range");
        Refused(request);
    }

    [Fact]
    public void Canonical_header_values_are_trimmed_and_collapsed()
    {
        var request = SigV4ExampleTests.GetObject();
        request.Headers.Range = "  bytes=0-9 ";
        SigV4.Verify(SigV4.Parse(request, ExampleTime)!, request, Key(Secret, ExampleTime));

        var headers = new (string, string)[] { ("x-amz-meta-note", "a   b  c"), ("x-amz-meta-list", "one"), ("x-amz-meta-list", "two") };
        var signed = Signed("PUT", "/bucket/key", "UNSIGNED-PAYLOAD", [("x-amz-meta-note", "a b c"), ("x-amz-meta-list", "one"), ("x-amz-meta-list", "two")]);
        var sent = Request("PUT", "/bucket/key", [.. signed.Headers.Where(h => !h.Key.StartsWith("x-amz-meta", StringComparison.Ordinal)).SelectMany(h => h.Value.Select(v => (h.Key, v!))), .. headers]);
        SigV4.Verify(SigV4.Parse(sent, ExampleTime)!, sent, Key(Secret, ExampleTime));
        sent.Headers["x-amz-meta-list"] = "two,one";
        Refused(sent);
    }

    [Fact]
    public void A_changed_signature_does_not_match()
    {
        var request = SigV4ExampleTests.GetObject();
        request.Headers.Authorization = request.Headers.Authorization.ToString().Replace("bdb41", "bdb42");
        Refused(request);
    }

    [Fact]
    public void A_changed_region_does_not_match()
    {
        // The access key id is not in the string to sign (another id means another secret, looked up by the caller); the region is.
        var request = SigV4ExampleTests.GetObject();
        request.Headers.Authorization = request.Headers.Authorization.ToString().Replace("us-east-1", "us-east-2");
        Refused(request);
    }

    [Fact]
    public void A_changed_presigned_query_does_not_match()
    {
        foreach (var (from, to) in new[] { ("X-Amz-Expires=86400", "X-Amz-Expires=86401"), ("/test.txt?", "/test.txt?acl&"), ("/test.txt", "/test.txT") })
        {
            var request = Request("GET", SigV4ExampleTests.PresignedTarget.Replace(from, to), [("Host", "examplebucket.s3.amazonaws.com")]);
            Refused(request);
        }
        var put = Request("PUT", SigV4ExampleTests.PresignedTarget, [("Host", "examplebucket.s3.amazonaws.com")]);
        Refused(put);
    }

    [Fact]
    public async Task A_changed_body_byte_fails_the_payload_hash_at_the_end()
    {
        var request = SigV4ExampleTests.PutObject("Welcome to Amazon S4.");
        var claim = SigV4.Parse(request, ExampleTime)!;
        var key = SigV4.SigningKey(Secret, claim.Scope);
        SigV4.Verify(claim, request, key); // the headers are intact: the body is only known bad once read

        await using var body = S3Payload.OpenBody(request, claim, key);
        var buffer = new byte[64];
        Assert.Equal(21, await body.ReadAsync(buffer, Ct));
        var e = await FailsAsync("XAmzContentSHA256Mismatch", () => ReadOnceAsync(body, buffer));
        Assert.Equal(400, e.Status);
        // Refused for good: a later read does not report a clean end.
        await FailsAsync("XAmzContentSHA256Mismatch", () => ReadOnceAsync(body, buffer));
    }

    [Fact]
    public async Task A_changed_streaming_chunk_byte_fails_that_chunk_signature()
    {
        var wire = SigV4ExampleTests.StreamingBody();
        wire[200] ^= 1;
        var request = SigV4ExampleTests.StreamingPut(wire);
        var claim = SigV4.Parse(request, ExampleTime)!;
        var key = SigV4.SigningKey(Secret, claim.Scope);
        SigV4.Verify(claim, request, key);
        await using var body = S3Payload.OpenBody(request, claim, key);
        var e = await FailsAsync("SignatureDoesNotMatch", () => ReadAllAsync(body));
        Assert.Contains("chunk 1", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    public async Task A_changed_chunk_signature_does_not_match(int chunk)
    {
        var wire = System.Text.Encoding.ASCII.GetString(SigV4ExampleTests.StreamingBody());
        var signature = SigV4ExampleTests.StreamingChunkSignatures[chunk];
        var request = SigV4ExampleTests.StreamingPut(System.Text.Encoding.ASCII.GetBytes(wire.Replace(signature, signature[..63] + (signature[63] == '0' ? '1' : '0'))));
        var claim = SigV4.Parse(request, ExampleTime)!;
        var key = SigV4.SigningKey(Secret, claim.Scope);
        await using var body = S3Payload.OpenBody(request, claim, key);
        var e = await FailsAsync("SignatureDoesNotMatch", () => ReadAllAsync(body));
        Assert.Contains($"chunk {chunk + 1}", e.Message);
    }

    [Fact]
    public async Task Reordered_chunks_do_not_match()
    {
        var data = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        var seed = "1111111111111111111111111111111111111111111111111111111111111111";
        var wire = System.Text.Encoding.Latin1.GetString(Chunked(data, 1000, new ChunkSigner(Key(Secret, ExampleTime), ExampleTime, seed)));
        var chunks = wire.Split("3e8;", StringSplitOptions.RemoveEmptyEntries);
        var swapped = "3e8;" + chunks[1] + "3e8;" + chunks[0] + "3e8;" + chunks[2];
        await FailsAsync("SignatureDoesNotMatch", () => ReadAllAsync(StreamingBody(System.Text.Encoding.Latin1.GetBytes(swapped), seed)));
    }

    [Fact]
    public async Task A_wrong_secret_fails_the_first_chunk()
    {
        var request = SigV4ExampleTests.StreamingPut();
        var claim = SigV4.Parse(request, ExampleTime)!;
        await using var body = S3Payload.OpenBody(request, claim, Key("another secret", ExampleTime));
        await FailsAsync("SignatureDoesNotMatch", () => ReadAllAsync(body));
    }

    /// <summary>A signed streaming body under a fabricated seed (decoding checks chunk signatures only, not the request's).</summary>
    private static Stream StreamingBody(byte[] wire, string seed)
    {
        var request = Request("PUT", "/b/k", [("Host", "h"), ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")], wire);
        var claim = new SigV4Claim(new SigV4Scope(AccessKey, "20130524", Region, "s3"), ["host"], seed, ExampleTime, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", false, null);
        return S3Payload.OpenBody(request, claim, Key(Secret, ExampleTime));
    }
}
