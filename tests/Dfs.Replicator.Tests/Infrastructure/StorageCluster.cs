using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;

namespace Dfs.Replicator.Tests.Infrastructure;

/// <summary>A real storage node process with its own data folder.</summary>
public sealed class StorageNode(string name, string dataDir, ServiceProcess process, Guid id) : IAsyncDisposable
{
    public string Name { get; } = name;
    public string DataDir { get; } = dataDir;
    public Guid Id { get; } = id;
    public Uri Url => Process.Url;
    public ServiceProcess Process { get; } = process;

    public static async Task<StorageNode> StartAsync(string name, string dataDir, long? capacityBytes, CancellationToken ct)
    {
        var environment = new Dictionary<string, string>
        {
            ["Dfs__StorageNode__Name"] = name,
            ["Dfs__StorageNode__DataDir"] = dataDir,
            // The cluster tests must not depend on how much the disk has left.
            ["Dfs__StorageNode__ReserveBytes"] = "0",
        };
        if (capacityBytes is { } capacity) environment["Dfs__StorageNode__CapacityBytes"] = capacity.ToString();
        var process = await ServiceProcess.StartAsync(ServiceDllAttribute.Find("storage-node"), environment, ct);
        try
        {
            var status = await StorageCluster.NodeClient.GetStatusAsync(process.Url, ct);
            return new StorageNode(name, dataDir, process, status.NodeId);
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    /// <summary>How the gateway would describe this node.</summary>
    public NodeInfo Info(string state = NodeStates.Live, long freeBytes = 1L << 40, bool draining = false) =>
        new(Id, Name, Url.ToString(), state, 1L << 41, freeBytes, 0, 0, DateTime.UtcNow, DateTime.UtcNow, draining);

    /// <summary>Where the node keeps a chunk (chunks/ab/cd/&lt;id&gt;).</summary>
    public string ChunkPath(string chunkId) => Path.Combine(DataDir, "chunks", chunkId[..2], chunkId[2..4], chunkId);

    public ValueTask DisposeAsync() => Process.DisposeAsync();
}

/// <summary>
/// Storage nodes shared by every test (each test uses its own random chunks): n1–n4 ordinary, and "full",
/// whose capacity of one byte makes it refuse every chunk with 507.
/// </summary>
public sealed class StorageCluster : IAsyncLifetime
{
    /// <summary>Signs like a member of the cluster: the nodes answer nothing else.</summary>
    public static readonly IStorageNodeClient NodeClient = new StorageNodeClient(() =>
        new HttpClient(new ClusterSigningHandler(ServiceProcess.ClusterSecret, new SocketsHttpHandler())) { Timeout = TimeSpan.FromSeconds(30) });

    private readonly List<StorageNode> _nodes = [];

    public TempFolder Root { get; } = new("dfs-replicator-tests");

    public StorageNode N1 => _nodes[0];
    public StorageNode N2 => _nodes[1];
    public StorageNode N3 => _nodes[2];
    public StorageNode N4 => _nodes[3];
    public StorageNode Full => _nodes[4];

    public IReadOnlyList<StorageNode> Ordinary => _nodes.Take(4).ToList();

    public async ValueTask InitializeAsync()
    {
        // Started in parallel: each node takes a second or two to boot on a busy machine.
        var starts = new[] { "n1", "n2", "n3", "n4" }
            .Select(name => StartNodeAsync(name, null))
            .Append(StartNodeAsync("full", 1))
            .ToArray();
        try
        {
            _nodes.AddRange(await Task.WhenAll(starts));
        }
        catch
        {
            foreach (var start in starts.Where(s => s.IsCompletedSuccessfully)) await start.Result.DisposeAsync();
            Root.Dispose();
            throw;
        }
    }

    /// <summary>A node of the test's own (to kill, for instance); the caller disposes it.</summary>
    public Task<StorageNode> StartNodeAsync(string name, long? capacityBytes) =>
        StorageNode.StartAsync(name, Path.Combine(Root.Path, $"{name}-{Guid.NewGuid():N}"), capacityBytes, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
        Root.Dispose();
    }
}
