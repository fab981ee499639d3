using Dfs.Contracts.Api;
using Dfs.Gateway;
using Dfs.Gateway.Data;
using Dfs.Gateway.Files;
using Dfs.Gateway.Namespace;
using Dfs.Gateway.Nodes;
using Dfs.Gateway.Replication;
using Dfs.Gateway.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>The gateway's metadata services over one fresh database (SQLite file or PostgreSQL database).</summary>
public sealed class MetadataHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly Func<ValueTask> _cleanup;

    private MetadataHarness(ServiceProvider services, Func<ValueTask> cleanup)
    {
        _services = services;
        _cleanup = cleanup;
    }

    public static async Task<MetadataHarness> CreateAsync(string connectionString, Func<ValueTask> cleanup, TimeProvider? clock = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(clock ?? TimeProvider.System);
        services.AddOptions<GatewayOptions>();
        services.AddOptions<ClusterOptions>();
        services.AddDbContext<MetadataDbContext>(o => MetadataDatabaseExtensions.Configure(o, connectionString));
        services.AddSingleton<ISharedState, InProcessSharedState>();
        services.AddSingleton<NodeRegistry>();
        services.AddScoped<NamespaceService>();
        services.AddScoped<FileCommitter>();
        services.AddScoped<ReplicationQueries>();
        services.AddScoped<NodeDrains>();
        var provider = services.BuildServiceProvider();
        await provider.MigrateMetadataAsync();
        return new MetadataHarness(provider, cleanup);
    }

    /// <summary>A singleton service (the node registry, for instance).</summary>
    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    /// <summary>A new instance of <typeparamref name="T"/> over this harness's services (a second registry, as after a restart).</summary>
    public T Create<T>() => ActivatorUtilities.CreateInstance<T>(_services);

    /// <summary>Runs <paramref name="work"/> with services from a new scope (one DbContext, like one request).</summary>
    public async Task<T> InScopeAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = _services.CreateAsyncScope();
        return await work(scope.ServiceProvider);
    }

    public Task<T> NamesAsync<T>(Func<NamespaceService, Task<T>> work) =>
        InScopeAsync(sp => work(sp.GetRequiredService<NamespaceService>()));

    public Task<CommittedFile> CommitAsync(string path, ConflictPolicy policy, byte[] content) =>
        InScopeAsync(sp => sp.GetRequiredService<FileCommitter>().CommitAsync(path, policy, FakeUpload(content), CancellationToken.None));

    /// <summary>Commits <paramref name="content"/> as one chunk held by <paramref name="holders"/>, wanting <paramref name="replicationFactor"/> copies.</summary>
    public Task<CommittedFile> CommitOnAsync(string path, byte[] content, int replicationFactor, params Guid[] holders)
    {
        var upload = FakeUpload(content);
        upload = upload with
        {
            ReplicationFactor = replicationFactor,
            Chunks = [.. upload.Chunks.Select(c => c with { Nodes = holders })],
        };
        return InScopeAsync(sp => sp.GetRequiredService<FileCommitter>().CommitAsync(path, ConflictPolicy.Fail, upload, CancellationToken.None));
    }

    /// <summary>An upload as the UploadService would describe it after storing one chunk on a node.</summary>
    public static UploadedFile FakeUpload(byte[] content)
    {
        var id = Contracts.Integrity.ChunkIds.Compute(content);
        var md5 = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(content));
        var chunks = content.Length == 0 ? [] : new List<StoredChunk> { new(0, id, 0, content.Length, [NodeId]) };
        return new UploadedFile(content.Length, md5, id, 1 << 20, 1, chunks);
    }

    public static readonly Guid NodeId = Guid.Parse("5d1f8c2e-0000-4000-8000-000000000001");

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _cleanup();
    }
}
