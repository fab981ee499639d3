using System.Collections;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Dfs.AppHost.Resources;
using Dfs.AppHost.Testing;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Security;

namespace Dfs.AppHost.Tests;

/// <summary>What the AppHost hands the services for cluster trust: the secret, and the gateway certificate and its pin.</summary>
public sealed class ClusterTrustWiringTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private const string Password = "pfx-password";

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-trust-");
    private readonly string _pfx;
    private readonly string _thumbprint;

    public ClusterTrustWiringTests()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=dfs-apphost-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        _pfx = Path.Combine(_folder.FullName, "gateway.pfx");
        File.WriteAllBytes(_pfx, certificate.Export(X509ContentType.Pfx, Password));
        _thumbprint = CertificatePinning.Sha256Thumbprint(certificate);
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private AppHostCommand Parse(params string[] args) => AppHostConfiguration.Parse(args, new Hashtable(), _folder.FullName);

    [Fact]
    public void The_certificate_switches_set_their_options_and_are_in_the_help()
    {
        var o = Parse("--gateway-cert", _pfx, "--gateway-cert-password", Password).Options!;
        Assert.Equal((_pfx, Password), (o.GatewayCertificatePath, o.GatewayCertificatePassword));

        var fromEnvironment = AppHostConfiguration.Parse([], new Hashtable
        {
            ["DFS_APPHOST_GATEWAY_CERTIFICATE_PATH"] = _pfx,
            ["DFS_APPHOST_GATEWAY_CERTIFICATE_PASSWORD"] = Password,
        }, _folder.FullName).Options!;
        Assert.Equal((_pfx, Password), (fromEnvironment.GatewayCertificatePath, fromEnvironment.GatewayCertificatePassword));

        var help = AppHostConfiguration.HelpText();
        Assert.Contains("--gateway-cert PATH", help);
        Assert.Contains("--gateway-cert-password PASSWORD", help);
        Assert.Null(Parse().Options!.GatewayCertificatePath);
    }

    [Fact]
    public void A_missing_certificate_file_or_a_password_alone_is_refused()
    {
        Assert.Contains(Parse("--gateway-cert", Path.Combine(_folder.FullName, "nope.pfx")).Errors, e => e.Contains("does not exist", StringComparison.Ordinal));
        Assert.Contains(Parse("--gateway-cert-password", "x").Errors, e => e.Contains("without a certificate", StringComparison.Ordinal));
    }

    [Fact]
    public void A_certificate_without_its_key_or_with_the_wrong_password_is_refused_by_the_builder()
    {
        var publicOnly = Path.Combine(_folder.FullName, "public.pfx");
        using (var withKey = X509CertificateLoader.LoadPkcs12FromFile(_pfx, Password))
            File.WriteAllBytes(publicOnly, X509CertificateLoader.LoadCertificate(withKey.RawData).Export(X509ContentType.Pfx, Password));

        var noKey = Assert.Throws<AppHostConfigurationException>(() => Build(publicOnly, Password));
        Assert.Contains("no private key", noKey.Message);
        var wrong = Assert.Throws<AppHostConfigurationException>(() => Build(_pfx, "wrong"));
        Assert.Contains("cannot be read", wrong.Message);

        DfsApplicationBuilder Build(string path, string password) => DfsTestingBuilder.Create(o =>
        {
            o.StateDir = Path.Combine(_folder.FullName, "state");
            o.Profile = Profiles.Embedded;
            o.GatewayCertificatePath = path;
            o.GatewayCertificatePassword = password;
        });
    }

    [Fact]
    public async Task With_a_certificate_the_gateway_is_https_in_the_model()
    {
        var builder = DfsTestingBuilder.Create(o =>
        {
            o.StateDir = Path.Combine(_folder.FullName, "model");
            o.Profile = Profiles.Embedded;
            o.Nodes = 1;
            o.GatewayCertificatePath = _pfx;
            o.GatewayCertificatePassword = Password;
        });
        await using var app = builder.Build();

        Assert.Equal(_thumbprint, builder.GatewayCertificateThumbprint);
        Assert.Equal("https", Assert.IsType<ProjectResource>(builder.FindResource("gateway")).Scheme);
        Assert.Equal("http", Assert.IsType<ProjectResource>(builder.FindResource("node-1")).Scheme);
        Assert.Equal(64, builder.ClusterSecret.Length);
    }

    [Fact]
    [Trait("Category", "Cluster")]
    public async Task Every_service_gets_the_secret_and_the_pin_and_a_restarted_node_gets_the_same_secret()
    {
        await using var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Embedded;
            o.Nodes = 1;
            o.HeartbeatIntervalMs = 300;
            o.NodeDeadAfterMs = 5000;
            o.Dashboard = false;
            o.GatewayCertificatePath = _pfx;
            o.GatewayCertificatePassword = Password;
        }, TestLogging.Factory()).Build();
        await app.StartAsync(Ct);

        var gateway = EnvironmentOf(app, "gateway");
        var node = EnvironmentOf(app, "node-1");
        Assert.Equal(app.ClusterSecret, gateway["Dfs__Cluster__Secret"]);
        Assert.Equal(app.ClusterSecret, node["Dfs__Cluster__Secret"]);
        Assert.Equal(_thumbprint, gateway["Dfs__Cluster__GatewayCertificateThumbprint"]);
        Assert.Equal(_thumbprint, node["Dfs__Cluster__GatewayCertificateThumbprint"]);
        Assert.Equal(app.GatewayUrl!.ToString().TrimEnd('/'), gateway["ASPNETCORE_URLS"]);
        Assert.StartsWith("https://127.0.0.1:", gateway["ASPNETCORE_URLS"]);
        Assert.Equal(Path.GetFullPath(_pfx), gateway["Kestrel__Certificates__Default__Path"]);
        Assert.Equal(Password, gateway["Kestrel__Certificates__Default__Password"]);
        Assert.Equal(gateway["ASPNETCORE_URLS"], node["services__gateway__https__0"]);
        Assert.False(node.ContainsKey("services__gateway__http__0"));
        // Nodes stay plain HTTP on loopback.
        Assert.StartsWith("http://127.0.0.1:", node["ASPNETCORE_URLS"]);

        var restartedAt = DateTime.UtcNow;
        // Healthy means registered with the gateway: the restarted node signs with the same secret as before.
        await app.RestartResourceAsync("node-1", Ct);

        Assert.Equal(app.ClusterSecret, EnvironmentOf(app, "node-1")["Dfs__Cluster__Secret"]);
        using var http = app.CreateHttpClient("gateway");
        var client = new Dfs.Contracts.Clients.GatewayClient(http);
        await Procs.EventuallyAsync(() => client.GetNodesAsync(Ct).Result.Single().LastHeartbeatAt > restartedAt,
            TimeSpan.FromSeconds(15), "node-1 to heartbeat again after its restart");
    }

    private static Dictionary<string, string> EnvironmentOf(DfsApplication app, string resource) =>
        ProcessTable.EnvironmentOf(app.GetResource(resource).Pid!.Value)!
            .Select(e => e.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv.Length > 1 ? kv[1] : "", StringComparer.Ordinal);
}
