using Dfs.Gateway.S3.Signing;
using Microsoft.AspNetCore.Http;
using static Dfs.Gateway.Tests.S3.SigningKit;

namespace Dfs.Gateway.Tests.S3;

/// <summary>What <see cref="SigV4.Parse"/> refuses, and with which of S3's codes.</summary>
public sealed class SigV4ParseTests
{
    private const string GoodSignature = "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41";
    private const string GoodCredential = "AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request";

    private static HttpRequest WithAuthorization(string authorization, params (string, string)[] more) => Request("GET", "/bucket/key",
    [
        ("Host", "localhost:9000"),
        ("x-amz-date", "20130524T000000Z"),
        ("x-amz-content-sha256", EmptySha256),
        ("Authorization", authorization),
        .. more,
    ]);

    [Fact]
    public void A_request_without_authentication_is_anonymous()
    {
        Assert.Null(SigV4.Parse(Request("GET", "/bucket/key?prefix=a&X-Amz-Date=20130524T000000Z", [("Host", "h")]), ExampleTime));
        Assert.Null(SigV4.Parse(Request("GET", "/", [("Host", "h"), ("Authorization", "  ")]), ExampleTime));
    }

    [Theory]
    [InlineData($"AWS4-HMAC-SHA256 SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}, Extra=1")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential} SignedHeaders=host;x-amz-content-sha256;x-amz-date Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE//us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/2013052/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20131324/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws5_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130525/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=Host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;;x-amz-date, Signature={GoodSignature}")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=abc")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=zz0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")]
    [InlineData($"AWS4-HMAC-SHA512 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}")]
    [InlineData("AWS4-HMAC-SHA256")]
    [InlineData("AWS4-HMAC-SHA256 ,,")]
    [InlineData($"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, =x, Signature={GoodSignature}")]
    public void A_malformed_Authorization_header_is_AuthorizationHeaderMalformed(string authorization)
    {
        var e = Fails("AuthorizationHeaderMalformed", () => SigV4.Parse(WithAuthorization(authorization), ExampleTime));
        Assert.Equal(400, e.Status);
    }

    [Theory]
    [InlineData("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", "InvalidRequest")]
    [InlineData($"AWS4-ECDSA-P256-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/s3/aws4_request, SignedHeaders=host, Signature=3045", "InvalidRequest")]
    [InlineData("Bearer abc.def", "InvalidArgument")]
    [InlineData("Basic YWxpY2U6c2VjcmV0", "InvalidArgument")]
    public void Other_authentication_schemes_are_refused_clearly(string authorization, string code)
    {
        var e = Fails(code, () => SigV4.Parse(WithAuthorization(authorization), ExampleTime));
        if (code == "InvalidRequest")
            Assert.Contains("Please use AWS4-HMAC-SHA256", e.Message);
    }

    [Fact]
    public void A_SigV2_presigned_URL_is_refused()
    {
        var request = Request("GET", "/bucket/key?AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Expires=1141889120&Signature=vjbyPxybdZaNmGa%2ByT272YEAiv4%3D", [("Host", "h")]);
        Assert.Contains("Version 2", Fails("InvalidRequest", () => SigV4.Parse(request, ExampleTime)).Message);
    }

    [Fact]
    public void The_request_time_must_be_within_15_minutes()
    {
        var request = SigV4ExampleTests.GetObject();
        Assert.NotNull(SigV4.Parse(request, ExampleTime.AddMinutes(15)));
        Assert.NotNull(SigV4.Parse(request, ExampleTime.AddMinutes(-15)));
        Assert.Equal(403, Fails("RequestTimeTooSkewed", () => SigV4.Parse(request, ExampleTime.AddMinutes(16))).Status);
        Fails("RequestTimeTooSkewed", () => SigV4.Parse(request, ExampleTime.AddMinutes(-16)));
    }

    [Fact]
    public void The_Date_header_serves_when_there_is_no_x_amz_date()
    {
        var time = ExampleTime.AddHours(5);
        var request = Request("GET", "/bucket/key", [("Host", "localhost:9000"), ("Date", time.ToString("r")), ("x-amz-content-sha256", EmptySha256)]);
        var signature = Sign("GET", "/bucket/key", EmptySha256, [("Host", "localhost:9000"), ("Date", time.ToString("r")), ("x-amz-content-sha256", EmptySha256)], time, Secret, out var signed);
        request.Headers.Authorization = $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope(time)},SignedHeaders={signed},Signature={signature}";
        var claim = SigV4.Parse(request, time)!;
        Assert.Equal(time, claim.RequestTime);
        SigV4.Verify(claim, request, Key(Secret, time));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("2013-05-24T00:00:00Z")]
    [InlineData("20130524T000000")]
    [InlineData("20130524T250000Z")]
    public void A_missing_or_bad_request_time_is_AccessDenied(string? amzDate)
    {
        var headers = new List<(string, string)> { ("Host", "h"), ("x-amz-content-sha256", EmptySha256),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}") };
        if (amzDate is not null)
            headers.Add(("x-amz-date", amzDate));
        Assert.Contains("x-amz-date", Fails("AccessDenied", () => SigV4.Parse(Request("GET", "/", headers), ExampleTime)).Message);
    }

    [Fact]
    public void Header_authentication_needs_a_valid_x_amz_content_sha256()
    {
        var authorization = $"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-date, Signature={GoodSignature}";
        var missing = Request("GET", "/", [("Host", "h"), ("x-amz-date", "20130524T000000Z"), ("Authorization", authorization)]);
        Assert.Contains("x-amz-content-sha256", Fails("InvalidRequest", () => SigV4.Parse(missing, ExampleTime)).Message);
        authorization = $"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature={GoodSignature}";
        foreach (var bad in new[] { "abc", "STREAMING-PAYLOAD", EmptySha256 + "0" })
            Fails("InvalidArgument", () => SigV4.Parse(Request("GET", "/", [("Host", "h"), ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", bad), ("Authorization", authorization)]), ExampleTime));
        Fails("InvalidRequest", () => SigV4.Parse(Request("GET", "/", [("Host", "h"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-content-sha256", "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"), ("Authorization", authorization)]), ExampleTime));
    }

    [Fact]
    public void Every_x_amz_header_must_be_signed()
    {
        var request = SigV4ExampleTests.GetObject();
        request.Headers["x-amz-meta-color"] = "red";
        var e = Fails("AccessDenied", () => SigV4.Parse(request, ExampleTime));
        Assert.Contains("x-amz-meta-color", e.Message);
        Assert.Equal(403, e.Status);
        // Other headers may go unsigned.
        request = SigV4ExampleTests.GetObject();
        request.Headers.UserAgent = "aws-cli/2.9";
        var claim = SigV4.Parse(request, ExampleTime)!;
        SigV4.Verify(claim, request, Key(Secret, ExampleTime));
    }

    [Fact]
    public void Verify_also_refuses_unsigned_x_amz_headers()
    {
        var request = SigV4ExampleTests.GetObject();
        var claim = SigV4.Parse(request, ExampleTime)!;
        request.Headers["X-Amz-Acl"] = "public-read";
        Fails("AccessDenied", () => SigV4.Verify(claim, request, Key(Secret, ExampleTime)));
    }

    [Fact]
    public void Session_tokens_are_refused()
    {
        var request = SigV4ExampleTests.GetObject();
        request.Headers["x-amz-security-token"] = "FQoGZXIvYXdzEJr";
        Assert.Equal(400, Fails("InvalidToken", () => SigV4.Parse(request, ExampleTime)).Status);
        var presigned = Request("GET", SigV4ExampleTests.PresignedTarget + "&X-Amz-Security-Token=FQoGZXIvYXdzEJr", [("Host", "examplebucket.s3.amazonaws.com")]);
        Fails("InvalidToken", () => SigV4.Parse(presigned, ExampleTime));
    }

    [Fact]
    public void Header_and_query_authentication_together_are_refused()
    {
        var request = Request("GET", SigV4ExampleTests.PresignedTarget, [("Host", "examplebucket.s3.amazonaws.com"),
            ("Authorization", $"AWS4-HMAC-SHA256 Credential={GoodCredential}, SignedHeaders=host, Signature={GoodSignature}")]);
        Fails("InvalidArgument", () => SigV4.Parse(request, ExampleTime));
    }

    [Theory]
    [InlineData("X-Amz-Algorithm=AWS4-HMAC-SHA256")]
    [InlineData("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request")]
    [InlineData("X-Amz-Date=20130524T000000Z")]
    [InlineData("X-Amz-Expires=86400")]
    [InlineData("X-Amz-SignedHeaders=host")]
    [InlineData("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")]
    public void A_presigned_URL_missing_a_parameter_is_refused(string parameter)
    {
        var target = SigV4ExampleTests.PresignedTarget.Replace("&" + parameter, "").Replace("?" + parameter + "&", "?");
        Assert.NotEqual(SigV4ExampleTests.PresignedTarget, target);
        Fails("AuthorizationQueryParametersError", () => SigV4.Parse(Request("GET", target, [("Host", "examplebucket.s3.amazonaws.com")]), ExampleTime));
    }

    [Theory]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=604801")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=-1")]
    [InlineData("X-Amz-Expires=86400", "X-Amz-Expires=1d")]
    [InlineData("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130524")]
    [InlineData("X-Amz-Date=20130524T000000Z", "X-Amz-Date=20130525T000000Z")]
    [InlineData("X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Algorithm=AWS4-HMAC-SHA1")]
    [InlineData("%2Fs3%2F", "%2Fiam%2F")]
    [InlineData("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=range")]
    [InlineData("X-Amz-Signature=aeeed9", "X-Amz-Signature=")]
    public void A_presigned_URL_with_a_bad_parameter_is_refused(string from, string to)
    {
        var target = SigV4ExampleTests.PresignedTarget.Replace(from, to);
        Assert.NotEqual(SigV4ExampleTests.PresignedTarget, target);
        Fails("AuthorizationQueryParametersError", () => SigV4.Parse(Request("GET", target, [("Host", "examplebucket.s3.amazonaws.com")]), ExampleTime));
    }

    [Fact]
    public void A_presigned_URL_may_last_seven_days_at_most_and_not_start_in_the_future()
    {
        var week = SigV4ExampleTests.PresignedTarget.Replace("X-Amz-Expires=86400", "X-Amz-Expires=604800");
        Assert.NotNull(SigV4.Parse(Request("GET", week, [("Host", "h")]), ExampleTime.AddDays(7)));
        Assert.Equal("Request has expired", Fails("AccessDenied", () => SigV4.Parse(Request("GET", week, [("Host", "h")]), ExampleTime.AddDays(7).AddSeconds(1))).Message);

        Assert.NotNull(SigV4.Parse(Request("GET", week, [("Host", "h")]), ExampleTime.AddMinutes(-15)));
        Fails("AccessDenied", () => SigV4.Parse(Request("GET", week, [("Host", "h")]), ExampleTime.AddMinutes(-16)));
    }

    [Fact]
    public void A_presigned_URL_may_sign_its_payload_hash()
    {
        var target = SigV4ExampleTests.PresignedTarget.Replace("&X-Amz-Signature", "&X-Amz-Content-Sha256=" + EmptySha256 + "&X-Amz-Signature");
        Assert.Equal(EmptySha256, SigV4.Parse(Request("GET", target, [("Host", "h")]), ExampleTime)!.PayloadHash);
        Fails("InvalidArgument", () => SigV4.Parse(Request("GET", target.Replace(EmptySha256, "nothex"), [("Host", "h")]), ExampleTime));
    }

    [Fact]
    public void Any_region_is_accepted()
    {
        var time = ExampleTime;
        foreach (var region in new[] { "us-east-1", "eu-west-3", "dfs", "garage" })
        {
            var headers = new List<(string, string)> { ("Host", "h"), ("x-amz-date", Time(time)), ("x-amz-content-sha256", EmptySha256) };
            var signature = Hex(System.Security.Cryptography.HMACSHA256.HashData(Key(Secret, time, region), System.Text.Encoding.UTF8.GetBytes(
                $"AWS4-HMAC-SHA256\n{Time(time)}\n{Scope(time, region)}\n{Sha256Hex($"GET\n/b\n\nhost:h\nx-amz-content-sha256:{EmptySha256}\nx-amz-date:{Time(time)}\n\nhost;x-amz-content-sha256;x-amz-date\n{EmptySha256}")}")));
            headers.Add(("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope(time, region)},SignedHeaders=host;x-amz-content-sha256;x-amz-date,Signature={signature}"));
            var request = Request("GET", "/b", headers);
            var claim = SigV4.Parse(request, time)!;
            Assert.Equal(region, claim.Scope.Region);
            SigV4.Verify(claim, request, SigV4.SigningKey(Secret, claim.Scope));
        }
    }
}
