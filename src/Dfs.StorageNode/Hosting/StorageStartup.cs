using Dfs.StorageNode.Chunks;

namespace Dfs.StorageNode.Hosting;

/// <summary>
/// Prepares the data folder before the server accepts requests (hosted services start before Kestrel):
/// takes an exclusive lock on it, loads the node id, clears leftover temp files and counts the chunks.
/// </summary>
internal sealed class StorageStartup(
    NodeDataDirectory directory,
    NodeIdentity identity,
    ChunkStore store,
    ILogger<StorageStartup> logger) : IHostedService, IDisposable
{
    private FileStream? _lock;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(directory.Root);
        _lock = AcquireLock();
        var id = identity.Id;
        store.Initialize();
        logger.LogInformation("Storage node {NodeId} serving {DataDir}", id, directory.Root);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _lock?.Dispose();
        _lock = null;
    }

    /// <summary>Two nodes on one folder would delete each other's writes in flight when starting.</summary>
    private FileStream AcquireLock()
    {
        try
        {
            return new FileStream(directory.LockFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"{directory.Root} is in use by another storage node.", e);
        }
    }
}
