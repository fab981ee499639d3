namespace Dfs.Replicator.Replication;

/// <summary>What one <see cref="ChunkReplicator.EnsureReplicasAsync(Dfs.Contracts.Internal.ChunkWork, IReadOnlyList{Dfs.Contracts.Api.NodeInfo}, CancellationToken)"/> did for a chunk.</summary>
/// <param name="Wanted">Copies the chunk should have (its replication factor).</param>
/// <param name="Target">
/// Copies reachable now: min(Wanted, holders that are not dead + live nodes that could take a copy), i.e.
/// min(Wanted, live nodes) when every holder is live. Never more copies than there are nodes to hold them.
/// </param>
/// <param name="HoldersBefore">Holders whose copies count (not dead, not draining) when the work started.</param>
/// <param name="CopiesMade">New copies streamed and reported to the gateway.</param>
/// <param name="NewHolders">The nodes that received those copies.</param>
/// <param name="Failures">Every failed attempt, in order (a copy may succeed after some).</param>
public sealed record ReplicationOutcome(
    string ChunkId,
    int Wanted,
    int Target,
    int HoldersBefore,
    int CopiesMade,
    IReadOnlyList<Guid> NewHolders,
    IReadOnlyList<ReplicationFailure> Failures)
{
    /// <summary>Copies that could have been made (a node was available) but were not, because attempts failed.</summary>
    public int CopiesMissing => Math.Max(0, Target - HoldersBefore - CopiesMade);

    /// <summary>Copies that failed; retrying may help.</summary>
    public bool CopyFailed => CopiesMissing > 0;

    /// <summary>Fewer copies than wanted remain, whether because copies failed or there are too few live nodes.</summary>
    public bool IsUnderReplicated => HoldersBefore + CopiesMade < Wanted;

    /// <summary>Copies that cannot exist until more nodes are live.</summary>
    public int LimitedByLiveNodes => Math.Max(0, Wanted - Math.Max(Target, HoldersBefore));
}

/// <summary>Which side of a copy failed.</summary>
public enum ReplicationSide
{
    /// <summary>Reading the chunk from a holder failed (unreachable, missing, corrupt, too slow).</summary>
    Source,

    /// <summary>Writing the chunk to a node failed (unreachable, full, 5xx, too slow).</summary>
    Target,

    /// <summary>The copy was made but the gateway did not take the replica report.</summary>
    Gateway,
}

public sealed record ReplicationFailure(ReplicationSide Side, Guid? NodeId, string Reason);
