using Dfs.Gateway.S3.Signing;
using static Dfs.Gateway.Tests.S3.SigningKit;

namespace Dfs.Gateway.Tests.S3;

/// <summary>
/// Clients differ in how they percent-encode the target on the wire and in their canonical request: what S3 accepts (the
/// AWS re-encoding of the decoded target) and the raw target as sent both verify; anything else does not.
/// </summary>
public sealed class SigV4EncodingTests
{
    /// <summary>A request sent as <paramref name="wire"/> but signed over <paramref name="signedTarget"/>.</summary>
    private static void Verifies(string wire, string signedTarget, bool expected = true)
    {
        var headers = new List<(string, string)> { ("Host", "localhost:9000"), ("x-amz-date", Time(ExampleTime)), ("x-amz-content-sha256", EmptySha256) };
        var signature = Sign("GET", signedTarget, EmptySha256, headers, ExampleTime, Secret, out var signedHeaders);
        headers.Add(("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope(ExampleTime)}, SignedHeaders={signedHeaders}, Signature={signature}"));
        var request = Request("GET", wire, headers);
        var claim = SigV4.Parse(request, ExampleTime)!;
        if (expected)
            SigV4.Verify(claim, request, Key(Secret, ExampleTime));
        else
            Fails("SignatureDoesNotMatch", () => SigV4.Verify(claim, request, Key(Secret, ExampleTime)));
    }

    [Theory]
    // Wire and canonical alike, in the AWS encoding.
    [InlineData("/bucket/a%20b%2Bc%3Dd~e", "/bucket/a%20b%2Bc%3Dd~e")]
    [InlineData("/bucket/caf%C3%A9/%E6%96%87", "/bucket/caf%C3%A9/%E6%96%87")]
    // Characters left plain on the wire, encoded in the canonical URI as S3 does (aws-cli, boto3, the SDKs).
    [InlineData("/bucket/a$b@c:d!e", "/bucket/a%24b%40c%3Ad%21e")]
    [InlineData("/bucket/a+b", "/bucket/a%2Bb")]
    [InlineData("/bucket/%7Euser/%2e", "/bucket/~user/.")]
    [InlineData("/bucket/a%2fb", "/bucket/a/b")]
    // Signed over the raw target, as sent (clients that sign what they send).
    [InlineData("/bucket/a+b", "/bucket/a+b")]
    [InlineData("/bucket/a%2Fb", "/bucket/a%2Fb")]
    [InlineData("/bucket/%7euser", "/bucket/%7euser")]
    // Queries: decoded and AWS-encoded ('/' too), or raw; sorted either way.
    [InlineData("/bucket?prefix=a/b&delimiter=/", "/bucket?delimiter=%2F&prefix=a%2Fb")]
    [InlineData("/bucket?prefix=a%2fb%20c", "/bucket?prefix=a%2Fb%20c")]
    [InlineData("/bucket?prefix=a/b&delimiter=/", "/bucket?delimiter=/&prefix=a/b")]
    [InlineData("/bucket?uploads", "/bucket?uploads=")]
    [InlineData("/bucket?b=2&a=1&a=0", "/bucket?a=0&a=1&b=2")]
    [InlineData("/bucket/k?tagging&versionId=x%2By", "/bucket/k?tagging=&versionId=x%2By")]
    public void Both_the_AWS_encoding_and_the_raw_target_verify(string wire, string signed) => Verifies(wire, signed);

    [Theory]
    [InlineData("/bucket/a+b", "/bucket/a%20b")] // '+' is not a space in a path
    [InlineData("/bucket/a%2Fb", "/bucket/a%252Fb")] // no double encoding
    [InlineData("/bucket/a/b", "/bucket/a%2Fb")]
    [InlineData("/bucket/A", "/bucket/a")]
    [InlineData("/bucket?prefix=a", "/bucket?prefix=b")]
    [InlineData("/bucket?prefix=a&x=1", "/bucket?prefix=a")]
    public void Other_encodings_do_not(string wire, string signed) => Verifies(wire, signed, expected: false);

    [Fact]
    public void An_absolute_form_target_is_read_from_its_path()
    {
        var headers = new List<(string, string)> { ("Host", "localhost:9000"), ("x-amz-date", Time(ExampleTime)), ("x-amz-content-sha256", EmptySha256) };
        var signature = Sign("GET", "/bucket/key?acl=", EmptySha256, headers, ExampleTime, Secret, out var signedHeaders);
        headers.Add(("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope(ExampleTime)}, SignedHeaders={signedHeaders}, Signature={signature}"));
        var request = Request("GET", "/bucket/key?acl", headers);
        request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = "http://localhost:9000/bucket/key?acl";
        SigV4.Verify(SigV4.Parse(request, ExampleTime)!, request, Key(Secret, ExampleTime));
    }

    [Fact]
    public void Without_a_raw_target_the_decoded_path_is_encoded()
    {
        var request = SigV4ExampleTests.PutObject();
        request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>()!.RawTarget = "";
        var claim = SigV4.Parse(request, ExampleTime)!;
        SigV4.Verify(claim, request, Key(Secret, ExampleTime));
    }
}
