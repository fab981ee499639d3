using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Dfs.AppHost.Settings;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Security;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// The cluster one run of the AppHost declares: its checked settings, the profile chosen and why, and what every
/// service of the run shares (the cluster secret, the gateway certificate's pin, the state folder).
/// </summary>
public sealed class DfsCluster
{
    public const string GatewayName = "gateway";

    /// <summary>The gateway endpoint that serves the S3 API (cluster.json "s3").</summary>
    public const string S3EndpointName = "s3";
    public const string ReplicatorName = "replicator";
    public const string MetadataName = "metadata";
    public const string MessagingName = "messaging";
    public const string CacheName = "cache";
    public const string StorageNodePrefix = "node-";
    private const string ProfileFileName = "profile";

    internal DfsCluster(DfsAppHostOptions options, ProfileChoice profile, string? gatewayCertificateThumbprint)
    {
        Options = options;
        Profile = profile;
        StateDirectory = Path.GetFullPath(options.StateDir);
        GatewayCertificateThumbprint = gatewayCertificateThumbprint;
    }

    public DfsAppHostOptions Options { get; }

    /// <summary>The profile actually used (auto resolved) and why.</summary>
    public ProfileChoice Profile { get; }

    public string StateDirectory { get; }

    /// <summary>Signs internal requests between the services (Dfs__Cluster__Secret, the parameter cluster-secret); new for each run of the AppHost.</summary>
    public string ClusterSecret { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>SHA-256 of the gateway's HTTPS certificate (Dfs__Cluster__GatewayCertificateThumbprint); null: plain HTTP.</summary>
    public string? GatewayCertificateThumbprint { get; }

    public string GatewayScheme => GatewayCertificateThumbprint is null ? "http" : "https";

    public string AdminPasswordPath => AdminPasswordFile.PathIn(StateDirectory);

    public string AccessKeyMasterKeyPath => AccessKeyMasterKey.PathIn(StateDirectory);

    /// <summary>gateway, then gateway-2..gateway-G.</summary>
    public IEnumerable<string> GatewayNames =>
        Enumerable.Range(1, Options.Gateways).Select(i => i == 1 ? GatewayName : GatewayName + "-" + i.ToString(CultureInfo.InvariantCulture));

    /// <summary>node-1..node-N started with the cluster, then the spares declared not started.</summary>
    public IEnumerable<(string Name, bool StartedWithCluster)> StorageNodes =>
        Enumerable.Range(1, Options.Nodes + Options.SpareNodes).Select(i => (StorageNodeName(i), i <= Options.Nodes));

    public static string StorageNodeName(int index) => StorageNodePrefix + index.ToString(CultureInfo.InvariantCulture);

    /// <summary>Where a storage node keeps its chunks.</summary>
    public string StorageNodeDataDirectory(string name) => Path.Combine(StateDirectory, name);

    /// <summary>
    /// Reads Dfs:AppHost, checks every value (the settings several processes share with the same limits they use), resolves
    /// the profile, and registers what runs beside DCP; prints the problems and returns null when anything is wrong, so that
    /// nothing starts.
    /// </summary>
    internal static DfsCluster? Create(IDistributedApplicationBuilder builder, TextWriter output, TextWriter errors)
    {
        var options = new DfsAppHostOptions();
        List<string> problems;
        try
        {
            builder.Configuration.GetSection(DfsAppHostOptions.SectionName).Bind(options);
            problems = [.. options.Validate()];
        }
        catch (InvalidOperationException e)
        {
            // The binder's own message names the setting and the value ("Failed to convert configuration value 'many' at
            // 'Dfs:AppHost:Nodes' to type 'System.Int32'."); its inner exception's names neither.
            problems = [e.Message];
        }

        DfsCluster? cluster = null;
        if (problems.Count == 0)
        {
            try
            {
                var profile = ProfileDetector.Resolve(options.Profile, options.PostgresBinDir,
                    metadataConnectionString: options.MetadataConnectionString, messagingConnectionString: options.MessagingConnectionString,
                    cacheConnectionString: options.CacheConnectionString);
                if (options.Gateways > 1 && profile.Profile == Profiles.Embedded)
                    throw new AppHostConfigurationException(
                        $"gateways {options.Gateways} needs Redis, where gateways share what they must see alike, and the profile chosen is embedded ({profile.Message}).");
                var thumbprint = options.GatewayCertificatePath is { } certificate ? ReadCertificateThumbprint(certificate, options.GatewayCertificatePassword) : null;
                cluster = new DfsCluster(options, profile, thumbprint);
            }
            catch (AppHostConfigurationException e)
            {
                problems.Add(e.Message);
            }
        }
        if (cluster is null)
        {
            foreach (var problem in problems) errors.WriteLine("error: " + problem);
            errors.WriteLine("Run with --help to see the options.");
            return null;
        }

        output.WriteLine(cluster.Profile.Message);
        if (builder.ExecutionContext.IsRunMode) cluster.NoteProfileSwitch(output);
        return cluster;
    }

    /// <summary>
    /// Each profile keeps its own metadata (PostgreSQL in STATE/metadata, SQLite in STATE/gateway): switching says so in
    /// one line, so that files seemingly gone are not taken for lost.
    /// </summary>
    private void NoteProfileSwitch(TextWriter output)
    {
        var file = Path.Combine(StateDirectory, ProfileFileName);
        var previous = File.Exists(file) ? File.ReadAllText(file).Trim() : null;
        if (previous is { Length: > 0 } && previous != Profile.Profile)
            output.WriteLine($"note: the {Profile.Profile} profile does not carry over the data the {previous} profile keeps in {StateDirectory}: " +
                             $"those files stay there, and --profile {previous} shows them again.");
        Directory.CreateDirectory(StateDirectory);
        File.WriteAllText(file, Profile.Profile + "\n");
    }

    /// <summary>Loads the certificate once at start, so that a wrong path, password or a file without its key is said before anything runs.</summary>
    private static string ReadCertificateThumbprint(string path, string? password)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadPkcs12FromFile(path, password);
            if (!certificate.HasPrivateKey)
                throw new AppHostConfigurationException($"gateway-cert: '{path}' holds no private key; the gateway needs one to serve HTTPS (export a .pfx with its key).");
            return CertificatePinning.Sha256Thumbprint(certificate);
        }
        catch (CryptographicException e)
        {
            throw new AppHostConfigurationException($"gateway-cert: '{path}' cannot be read as a PKCS#12 (.pfx) certificate with the given password: {e.Message}");
        }
    }
}
