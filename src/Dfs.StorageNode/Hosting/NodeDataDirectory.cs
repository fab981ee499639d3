using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Hosting;

/// <summary>
/// Where a node keeps its state: chunks/ab/cd/&lt;id&gt;, tmp/ for writes in flight, quarantine/&lt;id&gt; for corrupt copies the
/// gateway has not acknowledged yet, the scrubber's checkpoint, node-id, and a lock file.
/// </summary>
public sealed class NodeDataDirectory(IOptions<StorageNodeOptions> options)
{
    public string Root { get; } = Path.GetFullPath(options.Value.DataDir);
    public string Chunks => Path.Combine(Root, "chunks");
    public string Temp => Path.Combine(Root, "tmp");
    public string Quarantine => Path.Combine(Root, "quarantine");
    public string ScrubCheckpoint => Path.Combine(Root, "scrub-checkpoint.json");
    public string NodeIdFile => Path.Combine(Root, "node-id");
    public string LockFile => Path.Combine(Root, ".lock");
}
