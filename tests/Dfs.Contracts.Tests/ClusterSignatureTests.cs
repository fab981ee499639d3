using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Dfs.Contracts.Security;

namespace Dfs.Contracts.Tests;

public sealed class ClusterSignatureTests
{
    private const string Secret = "0123456789abcdef0123456789abcdef";
    private const string Target = "/chunks/ab12?limit=10&after=x";
    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000);
    private static readonly ClusterSignature Signature = new(Secret);

    [Fact]
    public void A_signature_verifies_for_the_same_method_target_and_time()
    {
        var header = Signature.Sign("GET", Target, Now);

        Assert.Matches("^t=1800000000,s=[0-9a-f]{64}$", header);
        Assert.Equal(ClusterSignatureStatus.Valid, Signature.Verify(header, "GET", Target, Now));
        // The method is signed in upper case, however the caller spells it.
        Assert.Equal(ClusterSignatureStatus.Valid, Signature.Verify(Signature.Sign("get", Target, Now), "GET", Target, Now));
    }

    [Fact]
    public void The_mac_is_hmac_sha256_of_method_target_and_time_keyed_with_the_secret()
    {
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret),
            Encoding.UTF8.GetBytes($"PUT\n{Target}\n1800000000")));
        Assert.Equal($"t=1800000000,s={expected}", Signature.Sign("PUT", Target, Now));
    }

    [Theory]
    [InlineData("method")]
    [InlineData("path")]
    [InlineData("query")]
    [InlineData("time")]
    [InlineData("mac")]
    [InlineData("secret")]
    public void Changing_any_signed_part_fails(string part)
    {
        var header = Signature.Sign("GET", Target, Now);
        var status = part switch
        {
            "method" => Signature.Verify(header, "DELETE", Target, Now),
            "path" => Signature.Verify(header, "GET", "/chunks/ab13?limit=10&after=x", Now),
            "query" => Signature.Verify(header, "GET", "/chunks/ab12?limit=11&after=x", Now),
            // A timestamp moved by a second, still inside the window: only the MAC can tell.
            "time" => Signature.Verify(header.Replace("t=1800000000", "t=1800000001"), "GET", Target, Now),
            "mac" => Signature.Verify(header[..^1] + (header[^1] == '0' ? '1' : '0'), "GET", Target, Now),
            _ => new ClusterSignature(Secret + "x").Verify(header, "GET", Target, Now),
        };
        Assert.Equal(ClusterSignatureStatus.Mismatch, status);
    }

    [Theory]
    [InlineData(-60, ClusterSignatureStatus.Valid)]
    [InlineData(60, ClusterSignatureStatus.Valid)]
    [InlineData(-61, ClusterSignatureStatus.Expired)]
    [InlineData(61, ClusterSignatureStatus.Expired)]
    [InlineData(-3600, ClusterSignatureStatus.Expired)]
    public void Signatures_are_accepted_within_sixty_seconds_of_the_verifiers_clock_either_way(int signedOffsetSeconds, ClusterSignatureStatus expected)
    {
        var header = Signature.Sign("GET", Target, Now.AddSeconds(signedOffsetSeconds));
        Assert.Equal(expected, Signature.Verify(header, "GET", Target, Now));
    }

    [Theory]
    [InlineData(null, ClusterSignatureStatus.Missing)]
    [InlineData("", ClusterSignatureStatus.Missing)]
    [InlineData("garbage", ClusterSignatureStatus.Malformed)]
    [InlineData("t=1800000000", ClusterSignatureStatus.Malformed)]
    [InlineData("s=00,t=1800000000", ClusterSignatureStatus.Malformed)]
    [InlineData("t=-5,s=0000000000000000000000000000000000000000000000000000000000000000", ClusterSignatureStatus.Malformed)]
    [InlineData("t=1800000000,s=00", ClusterSignatureStatus.Malformed)]
    [InlineData("t=1800000000,s=zz00000000000000000000000000000000000000000000000000000000000000", ClusterSignatureStatus.Malformed)]
    [InlineData("t=1800000000,s=0000000000000000000000000000000000000000000000000000000000000000", ClusterSignatureStatus.Mismatch)]
    public void Missing_and_malformed_headers_are_told_apart(string? header, ClusterSignatureStatus expected) =>
        Assert.Equal(expected, Signature.Verify(header, "GET", Target, Now));

    [Fact]
    public void An_empty_secret_is_refused() => Assert.Throws<ArgumentException>(() => new ClusterSignature(""));

    [Fact]
    public async Task The_signing_handler_signs_each_request_for_its_own_target_replacing_any_old_signature()
    {
        var seen = new List<(string Method, string Target, string Header)>();
        using var client = new HttpClient(new ClusterSigningHandler(Secret, new Recorder(seen))) { BaseAddress = new Uri("http://127.0.0.1:9/") };
        using var request = new HttpRequestMessage(HttpMethod.Delete, "chunks/ab?x=%20y");
        request.Headers.TryAddWithoutValidation(ClusterSignature.HeaderName, "t=1,s=stale");

        await client.SendAsync(request, TestContext.Current.CancellationToken);
        await client.GetAsync("/internal/nodes", TestContext.Current.CancellationToken);

        Assert.Equal(2, seen.Count);
        Assert.Equal(("DELETE", "/chunks/ab?x=%20y"), (seen[0].Method, seen[0].Target));
        Assert.Equal(("GET", "/internal/nodes"), (seen[1].Method, seen[1].Target));
        foreach (var (method, target, header) in seen)
            Assert.Equal(ClusterSignatureStatus.Valid, Signature.Verify(header, method, target, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void Pinning_accepts_the_pinned_certificate_only()
    {
        using var pinned = SelfSigned("CN=pinned");
        using var other = SelfSigned("CN=other");
        var validate = CertificatePinning.Validator(CertificatePinning.Sha256Thumbprint(pinned).ToLowerInvariant());

        Assert.True(validate(this, pinned, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
        Assert.False(validate(this, other, null, System.Net.Security.SslPolicyErrors.RemoteCertificateChainErrors));
        // What the system trusts stays trusted.
        Assert.True(validate(this, other, null, System.Net.Security.SslPolicyErrors.None));
        Assert.False(CertificatePinning.Validator(null)(this, pinned, null, System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch));
        Assert.Null(CertificatePinning.NormalizeThumbprint("abc"));
        Assert.Equal(CertificatePinning.Sha256Thumbprint(pinned),
            CertificatePinning.NormalizeThumbprint(string.Join(':', CertificatePinning.Sha256Thumbprint(pinned).Chunk(2).Select(c => new string(c)))));
    }

    private static X509Certificate2 SelfSigned(string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        return new CertificateRequest(subject, key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
    }

    private sealed class Recorder(List<(string, string, string)> seen) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            seen.Add((request.Method.Method, request.RequestUri!.PathAndQuery,
                string.Join(",", request.Headers.GetValues(ClusterSignature.HeaderName))));
            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK));
        }
    }
}
