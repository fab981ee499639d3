using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;
using Dfs.StorageNode.Registration;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.StorageNode.Tests.Infrastructure;

/// <summary>A storage node on a real Kestrel port (loopback) with its own data folder.</summary>
public sealed class NodeHost : IAsyncDisposable
{
    private readonly WebApplicationFactory<Program> _factory;
    private readonly bool _ownsDataDir;

    private NodeHost(WebApplicationFactory<Program> factory, TempDir dataDir, bool ownsDataDir, Uri url)
    {
        _factory = factory;
        DataDir = dataDir;
        _ownsDataDir = ownsDataDir;
        Url = url;
        Http = new HttpClient(new ClusterSigningHandler(Secret, new SocketsHttpHandler())) { BaseAddress = url };
        UnsignedHttp = new HttpClient { BaseAddress = url };
        Client = new StorageNodeClient(() => new HttpClient(new ClusterSigningHandler(Secret, new SocketsHttpHandler())));
    }

    /// <summary>Dfs:Cluster:Secret of every test node (and of the recording gateway).</summary>
    public const string Secret = "node-tests-cluster-secret-0123456789";

    public TempDir DataDir { get; }
    public Uri Url { get; }

    /// <summary>Raw client for malformed requests, BaseAddress = the node; signs like the gateway does.</summary>
    public HttpClient Http { get; }

    /// <summary>A client outside the cluster: no signature.</summary>
    public HttpClient UnsignedHttp { get; }

    /// <summary>The typed client the gateway uses.</summary>
    public IStorageNodeClient Client { get; }

    public IServiceProvider Services => _factory.Services;

    public string ChunksDir => Path.Combine(DataDir.Path, "chunks");
    public string TempFilesDir => Path.Combine(DataDir.Path, "tmp");

    /// <summary>Starts a node; pass <paramref name="dataDir"/> to restart on an existing folder (the caller then owns it).</summary>
    public static NodeHost Start(IReadOnlyDictionary<string, string?>? settings = null, TempDir? dataDir = null)
    {
        var ownsDataDir = dataDir is null;
        dataDir ??= new TempDir();
        var all = new Dictionary<string, string?>
        {
            ["Dfs:StorageNode:DataDir"] = dataDir.Path,
            ["Dfs:StorageNode:Name"] = "test-node",
            // Tests share a disk with others; the default 64 MiB reserve is fine, but make it explicit.
            ["Dfs:StorageNode:ReserveBytes"] = "0",
            ["Dfs:Cluster:Secret"] = Secret,
        };
        if (settings is not null)
            foreach (var (key, value) in settings) all[key] = value;

        var factory = new WebApplicationFactory<Program>().WithWebHostBuilder(web =>
        {
            foreach (var (key, value) in all) web.UseSetting(key, value);
            web.UseSetting("urls", "http://127.0.0.1:0");
        });
        try
        {
            factory.UseKestrel();
            factory.StartServer();
            var server = factory.Services.GetRequiredService<IServer>();
            var address = server.Features.Get<IServerAddressesFeature>()!.Addresses.First();
            return new NodeHost(factory, dataDir, ownsDataDir, new Uri(address));
        }
        catch
        {
            factory.Dispose();
            if (ownsDataDir) dataDir.Dispose();
            throw;
        }
    }

    public RegistrationState Registration => Services.GetRequiredService<RegistrationState>();

    /// <summary>Every file under chunks/ and tmp/ (what a failed write must not leave behind).</summary>
    public string[] StoredFiles() =>
        Directory.EnumerateFiles(ChunksDir, "*", SearchOption.AllDirectories)
            .Concat(Directory.EnumerateFiles(TempFilesDir))
            .ToArray();

    public string[] TempFiles() => Directory.GetFiles(TempFilesDir);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        UnsignedHttp.Dispose();
        await _factory.DisposeAsync();
        if (_ownsDataDir) DataDir.Dispose();
    }
}

public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "dfs-node-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
