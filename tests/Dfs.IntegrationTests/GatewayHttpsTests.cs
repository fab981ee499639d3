using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dfs.AppHost.Testing;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Security;

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
        await using var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Embedded;
            o.Nodes = 2;
            o.ReplicationFactor = 2;
            o.ChunkSizeBytes = 64 * 1024;
            o.HeartbeatIntervalMs = 300;
            o.NodeDeadAfterMs = 5000;
            o.ReplicatorReconcileIntervalMs = 500;
            o.Dashboard = false;
            o.GatewayCertificatePath = _pfx;
            o.GatewayCertificatePassword = Password;
        }).Build();
        // The nodes register (they are healthy only then) and the AppHost probes: both over TLS with the pin.
        await app.StartAsync(Ct);

        var url = app.GatewayUrl!;
        Assert.Equal("https", url.Scheme);
        Assert.Equal("127.0.0.1", url.Host);
        Assert.Equal(_thumbprint, app.GatewayCertificateThumbprint);
        Assert.Equal(url.ToString().TrimEnd('/'), ClusterFile.TryRead(app.StateDirectory)!.Gateway);

        // A client that trusts this one certificate (the handler's validation callback): PUT, GET, the copies made by
        // the Replicator inside the gateway (which calls the gateway's own https address).
        using var trusting = new HttpClient(new SocketsHttpHandler
        {
            SslOptions = { RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && CertificatePinning.Sha256Thumbprint(certificate) == _thumbprint },
        }) { BaseAddress = url };
        trusting.DefaultRequestHeaders.Authorization = app.GatewayAuthorization;
        var gateway = new GatewayClient(trusting);
        var data = TestData.Random(200_000, 81);
        var put = await gateway.PutFileAsync("/tls/file.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal(TestData.Sha256(data), put.Sha256);
        Assert.Equal(TestData.Sha256(data), await gateway.DownloadSha256Async("/tls/file.bin", Ct));
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await gateway.StatAsync("/tls/file.bin", Ct)).Chunks.Any(c => c.Replicas.Count < 2))
        {
            Assert.True(DateTime.UtcNow < deadline, "the embedded Replicator did not make the second copies over https");
            await Task.Delay(200, Ct);
        }

        // The AppHost's own client trusts it too.
        using var appClient = app.CreateHttpClient("gateway");
        Assert.Equal(HttpStatusCode.OK, (await appClient.GetAsync("/health", Ct)).StatusCode);

        // A client that trusts only what the system trusts is refused by TLS: the certificate is really in use.
        using var strict = new HttpClient { BaseAddress = url };
        var untrusted = await Assert.ThrowsAsync<HttpRequestException>(() => strict.GetAsync("/health", Ct));
        Assert.IsType<System.Security.Authentication.AuthenticationException>(untrusted.InnerException);

        // Plain HTTP is not served on that port.
        using var plain = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAsync<HttpRequestException>(() => plain.GetAsync(new UriBuilder(url) { Scheme = "http" }.Uri + "health", Ct));
    }

    [Fact]
    public void A_wrong_password_or_a_missing_file_is_refused_before_anything_starts()
    {
        var wrong = Assert.Throws<AppHostConfigurationException>(() => DfsTestingBuilder.Create(o =>
        {
            o.StateDir = Path.Combine(_folder.FullName, "state");
            o.Profile = Profiles.Embedded;
            o.GatewayCertificatePath = _pfx;
            o.GatewayCertificatePassword = "not-the-password";
        }));
        Assert.Contains("gateway-cert", wrong.Message);

        var missing = Assert.Throws<AppHostConfigurationException>(() => DfsTestingBuilder.Create(o =>
        {
            o.StateDir = Path.Combine(_folder.FullName, "state");
            o.Profile = Profiles.Embedded;
            o.GatewayCertificatePath = Path.Combine(_folder.FullName, "nope.pfx");
        }));
        Assert.Contains("does not exist", missing.Message);
    }
}
