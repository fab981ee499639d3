using System.ComponentModel.DataAnnotations;
using Dfs.Contracts.Cluster;

namespace Dfs.StorageNode.Registration;

/// <summary>The node's view of "Dfs:Cluster" (shared by every process of the cluster).</summary>
public sealed class ClusterOptions
{
    public const string SectionName = "Dfs:Cluster";

    [Range(SharedSettings.MinHeartbeatIntervalMs, SharedSettings.MaxHeartbeatIntervalMs)]
    public int HeartbeatIntervalMs { get; set; } = 2000;
}
