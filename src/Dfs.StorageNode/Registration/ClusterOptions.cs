using System.ComponentModel.DataAnnotations;

namespace Dfs.StorageNode.Registration;

/// <summary>The node's view of "Dfs:Cluster" (shared by every process of the cluster).</summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Dfs:Cluster";

    [Range(10, int.MaxValue)]
    public int HeartbeatIntervalMs { get; set; } = 2000;
}
