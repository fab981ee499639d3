using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Security;
using Dfs.IntegrationTests.Support;

namespace Dfs.IntegrationTests;

/// <summary>The gateway with a certificate: HTTPS only on its port, and the cluster's processes trust the certificate by its pin.</summary>
public sealed class GatewayHttpsTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Password = "pfx-password-for-tests";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-https-");
    private readonly string _pfx;
    private readonly string _thumbprint;

    public GatewayHttpsTests()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=dfs-gateway-test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _pfx = Path.Combine(_folder.FullName, "gateway.pfx");
        File.WriteAllBytes(_pfx, certificate.Export(X509ContentType.Pfx, Password));
        _thumbprint = CertificatePinning.Sha256Thumbprint(certificate);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task A_cluster_with_a_gateway_certificate_serves_https_only_and_round_trips_files()
    {
        // The nodes register (they are healthy only then) and the AppHost probes the gateway: both over TLS with the pin.
        await using var app = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "embedded";
            o.Nodes = 2;
            o.ReplicationFactor = 2;
            o.ChunkSizeBytes = 64 * 1024;
            o.NodeDeadAfterMs = 5000;
            o.ReconcileIntervalMs = 500;
            o.ExtraArguments.AddRange(["--gateway-cert", _pfx, "--gateway-cert-password", Password]);
        }, Ct);

        var url = app.GatewayUrl;
        Assert.Equal("https", url.Scheme);
        Assert.Equal("127.0.0.1", url.Host);
        Assert.Equal(_thumbprint, app.Cluster.GatewayCertificateThumbprint);
        Assert.Equal(url.ToString().TrimEnd('/'), ClusterFile.TryRead(app.StateDirectory)!.Gateway);

        // A client that trusts this one certificate (the handler's validation callback): PUT, GET, the copies made by
        // the Replicator inside the gateway (which calls the gateway's own https address).
        using var trusting = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && CertificatePinning.Sha256Thumbprint(certificate) == _thumbprint },
        }) { BaseAddress = url };
        trusting.DefaultRequestHeaders.Authorization = DfsTestCluster.AdminAuthorization;
        var gateway = DfsRefit.Gateway(trusting);
        var data = TestData.Random(200_000, 81);
        var put = await gateway.PutFileAsync("/tls/file.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal(TestData.Sha256(data), put.Sha256);
        Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/tls/file.bin", Ct));
        await ReplicationTiming.WaitForCopiesAsync(gateway, "/tls/file.bin", 2, TimeSpan.FromSeconds(60), Ct);

        // The test harness's own clients trust it by the pin, as the services do.
        using var pinned = app.CreateGatewayClient();
        Assert.Equal(HttpStatusCode.OK, (await pinned.GetAsync("/health", Ct)).StatusCode);

        // A client that trusts only what the system trusts is refused by TLS: the certificate is really in use.
        using var strict = new HttpClient { BaseAddress = url };
        var untrusted = await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetAsync("/health", Ct));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(untrusted.InnerException);

        // Plain HTTP is not served on that port.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new UriBuilder(url) { Scheme = "http" }.Uri + "health", Ct));
    }

    [Fact]
    public async Task A_wrong_password_or_a_missing_file_is_refused_by_the_apphost_before_anything_starts()
    {
        // The AppHost executable as a developer runs it: it checks the certificate before it builds the application model,
        // so it says why and exits 2 without starting DCP or any resource, and writes nothing in the state folder.
        var state = Path.Combine(_folder.FullName, "state");
        var wrong = await AppHostExe.RunAsync(["--state-dir", state, "--profile", "embedded", "--no-dashboard",
            "--gateway-cert", _pfx, "--gateway-cert-password", "not-the-password"], Ct);
        Assert.True(wrong.Code == 2, $"exit {wrong.Code}\n{wrong.Stdout}\n{wrong.Stderr}");
        Assert.Contains($"error: gateway-cert: '{_pfx}' cannot be read as a PKCS#12 (.pfx) certificate with the given password", wrong.Stderr);
        Assert.DoesNotContain("Distributed application starting", wrong.Stdout);

        var missingPath = Path.Combine(_folder.FullName, "nope.pfx");
        var missing = await AppHostExe.RunAsync(["--state-dir", state, "--profile", "embedded", "--no-dashboard", "--gateway-cert", missingPath], Ct);
        Assert.True(missing.Code == 2, $"exit {missing.Code}\n{missing.Stdout}\n{missing.Stderr}");
        Assert.Contains($"error: gateway-cert: the certificate file '{missingPath}' does not exist.", missing.Stderr);
        Assert.DoesNotContain("Distributed application starting", missing.Stdout);

        Assert.False(Directory.Exists(state), "the refused runs wrote into the state folder");
    }
}
