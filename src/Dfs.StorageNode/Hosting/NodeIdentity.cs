namespace Dfs.StorageNode.Hosting;

/// <summary>
/// The node's persistent id, kept in DataDir/node-id: the gateway knows a node by it, so a restarted node
/// (possibly on another port) is recognised as the same holder of the same chunks.
/// </summary>
public sealed class NodeIdentity
{
    private readonly Lazy<Guid> _id;

    public NodeIdentity(NodeDataDirectory directory, ILogger<NodeIdentity> logger)
    {
        _id = new Lazy<Guid>(() => LoadOrCreate(directory, logger));
    }

    public Guid Id => _id.Value;

    private static Guid LoadOrCreate(NodeDataDirectory directory, ILogger logger)
    {
        var path = directory.NodeIdFile;
        if (File.Exists(path)) return Read(path);

        Directory.CreateDirectory(directory.Root);
        var id = Guid.NewGuid();
        // Written aside and moved into place so that a crash never leaves a half-written id behind.
        var temp = $"{path}.{Guid.NewGuid():N}.tmp";
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(System.Text.Encoding.ASCII.GetBytes(id.ToString("D")));
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp);
            return Read(path);
        }
        logger.LogInformation("Created node id {NodeId} in {Path}", id, path);
        return id;
    }

    private static Guid Read(string path)
    {
        var text = File.ReadAllText(path).Trim();
        return Guid.TryParse(text, out var id)
            ? id
            : throw new InvalidOperationException($"{path} does not hold a node id (a GUID); fix or remove it.");
    }
}
