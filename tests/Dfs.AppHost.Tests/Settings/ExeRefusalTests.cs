using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dfs.AppHost.Settings;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Tests.Settings;

/// <summary>
/// The built exe with settings it must refuse: exit code 2 and one line per problem on stderr, before anything starts
/// (no DCP, no server, nothing in the state folder). Each run costs about a second: the exe stops before DCP.
/// </summary>
public sealed class ExeRefusalTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-refusal-");

    public void Dispose() => _folder.Delete(recursive: true);

    /// <summary>A state folder that does not exist yet: whatever the exe creates in it shows.</summary>
    private string StateDir => Path.Combine(_folder.FullName, "state");

    private static void AssertRefusedBeforeAnythingStarted((int Code, string Stdout, string Stderr, IReadOnlyList<string> Descendants) run, string stateDir)
    {
        Assert.True(run.Code == 2, $"exit code {run.Code}\nstdout:\n{run.Stdout}\nstderr:\n{run.Stderr}");
        Assert.EndsWith("Run with --help to see the options.\n", run.Stderr.ReplaceLineEndings("\n"));
        Assert.DoesNotContain("Dfs gateway", run.Stdout);
        Assert.Empty(run.Descendants);
        Assert.False(Directory.Exists(stateDir), $"{stateDir} was created");
    }

    [Fact]
    public async Task The_exe_prints_help_with_every_switch_and_exits_0()
    {
        var (code, stdout, _, descendants) = await AppHostExe.RunAsync(["--help"], Ct);

        Assert.Equal(0, code);
        Assert.Equal(DfsCommandLine.HelpText().ReplaceLineEndings("\n"), stdout.ReplaceLineEndings("\n"));
        foreach (var option in DfsCommandLine.Switches) Assert.Contains(option.Name, stdout);
        Assert.Empty(descendants);
    }

    [Theory]
    [InlineData(new[] { "--chunk-size", "128M" }, "error: chunk-size must be between 4K and 64M (got 128M).")]
    [InlineData(new[] { "--chunk-size", "1K" }, "error: chunk-size must be between 4K and 64M (got 1K).")]
    [InlineData(new[] { "--nodes", "-1" }, "error: nodes must be between 0 and 64 (got -1).")]
    [InlineData(new[] { "--heartbeat-ms", "5000", "--node-dead-after-ms", "5000" }, "error: node-dead-after-ms (5000) must be longer than the heartbeat interval (5000).")]
    [InlineData(new[] { "--replication", "17" }, "error: replication must be between 1 and 16 (got 17).")]
    [InlineData(new[] { "--gateways", "9" }, "error: gateways must be between 1 and 8 (got 9).")]
    [InlineData(new[] { "--gateways", "2", "--profile", "embedded" }, "error: gateways 2 needs Redis, where gateways share what they must see alike: use the local profile, or --cache with --profile external.")]
    [InlineData(new[] { "--profile", "cloud" }, "error: profile 'cloud' is not one of auto, local, embedded, external.")]
    [InlineData(new[] { "--frobnicate" }, "error: unknown option '--frobnicate'.")]
    [InlineData(new[] { "--nodes", "many" }, "error: --nodes: 'many' is not a whole number.")]
    [InlineData(new[] { "--profile", "local", "--postgres-bin-dir", "/nonexistent" }, "error: postgres-bin-dir /nonexistent does not hold both 'postgres' and 'initdb'.")]
    [InlineData(new[] { "--profile", "external" }, "error: profile external needs the metadata connection string")]
    [InlineData(new[] { "--metadata", "Host=db;Bogus Key=1" }, "error: the metadata connection string is not valid")]
    [InlineData(new[] { "--gateway-cert", "/nonexistent/gateway.pfx" }, "error: gateway-cert: the certificate file '/nonexistent/gateway.pfx' does not exist.")]
    public async Task Bad_values_are_refused_before_anything_starts(string[] args, string message)
    {
        var run = await AppHostExe.RunAsync([.. args, "--state-dir", StateDir], Ct);

        AssertRefusedBeforeAnythingStarted(run, StateDir);
        Assert.Contains(message, run.Stderr);
    }

    [Fact]
    public async Task The_exe_uses_the_same_rules_as_the_gateway_and_says_every_problem_at_once()
    {
        var run = await AppHostExe.RunAsync(["--chunk-size", "128M", "--replication", "0", "--heartbeat-ms", "10", "--state-dir", StateDir], Ct);

        AssertRefusedBeforeAnythingStarted(run, StateDir);
        var expected = SharedSettings.Validate(128L * 1024 * 1024, 0, 10, 15000).Select(e => "error: " + e).ToList();
        Assert.Equal(3, expected.Count);
        Assert.Equal([.. expected, "Run with --help to see the options."], run.Stderr.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task Appsettings_json_then_the_environment_then_the_command_line()
    {
        // The exe reads appsettings.json from where it runs (its content root); each layer here holds a value the
        // next one replaces, and each value is out of range so that the refusal names the value that won.
        var content = Path.Combine(_folder.FullName, "content");
        Directory.CreateDirectory(content);
        await File.WriteAllTextAsync(Path.Combine(content, "appsettings.json"),
            """{ "Dfs": { "AppHost": { "Nodes": 70, "SpareNodes": 17, "ReplicationFactor": 20, "GatewayPort": 70001 } } }""", Ct);
        var environment = new Dictionary<string, string?>
        {
            ["Dfs__AppHost__SpareNodes"] = "18",
            ["Dfs__AppHost__ReplicationFactor"] = "21",
            ["Dfs__AppHost__Nodes"] = null,
        };

        var run = await AppHostExe.RunAsync(["--replication", "22", "--state-dir", StateDir], Ct, environment, content);

        AssertRefusedBeforeAnythingStarted(run, StateDir);
        Assert.Contains("error: nodes must be between 0 and 64 (got 70).", run.Stderr);                 // appsettings.json
        Assert.Contains("error: spare-nodes must be between 0 and 16 (got 18).", run.Stderr);           // the environment beats it
        Assert.Contains("error: replication must be between 1 and 16 (got 22).", run.Stderr);           // the command line beats both
        Assert.Contains("error: gateway-port must be between 0 and 65535 (got 70001).", run.Stderr);    // appsettings.json alone
    }

    [Fact]
    public async Task Dfs__AppHost__Nodes_from_the_environment_is_checked_too()
    {
        var run = await AppHostExe.RunAsync(["--state-dir", StateDir], Ct, new Dictionary<string, string?> { ["Dfs__AppHost__Nodes"] = "-1" });

        AssertRefusedBeforeAnythingStarted(run, StateDir);
        Assert.Contains("error: nodes must be between 0 and 64 (got -1).", run.Stderr);

        var notNumber = await AppHostExe.RunAsync(["--state-dir", StateDir], Ct, new Dictionary<string, string?> { ["Dfs__AppHost__Nodes"] = "many" });
        AssertRefusedBeforeAnythingStarted(notNumber, StateDir);
        Assert.Contains("Dfs:AppHost:Nodes", notNumber.Stderr);
    }

    [Fact]
    public async Task A_gateway_certificate_without_its_key_or_with_the_wrong_password_is_refused()
    {
        const string password = "pfx-password";
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=dfs-refusal-test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var withKey = Path.Combine(_folder.FullName, "gateway.pfx");
        await File.WriteAllBytesAsync(withKey, certificate.Export(X509ContentType.Pfx, password), Ct);
        var publicOnly = Path.Combine(_folder.FullName, "public.pfx");
        using (var bare = X509CertificateLoader.LoadCertificate(certificate.RawData))
            await File.WriteAllBytesAsync(publicOnly, bare.Export(X509ContentType.Pfx, password), Ct);

        var noKey = await AppHostExe.RunAsync(["--gateway-cert", publicOnly, "--gateway-cert-password", password, "--state-dir", StateDir], Ct);
        AssertRefusedBeforeAnythingStarted(noKey, StateDir);
        Assert.Contains($"error: gateway-cert: '{publicOnly}' holds no private key", noKey.Stderr);

        var wrong = await AppHostExe.RunAsync(["--gateway-cert", withKey, "--gateway-cert-password", "wrong", "--state-dir", StateDir], Ct);
        AssertRefusedBeforeAnythingStarted(wrong, StateDir);
        Assert.Contains($"error: gateway-cert: '{withKey}' cannot be read as a PKCS#12 (.pfx) certificate with the given password", wrong.Stderr);
    }
}
