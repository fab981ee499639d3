namespace Dfs.Replicator.Replication;

/// <summary>Copies of a file's chunks failed (not merely too few live nodes): thrown so the retry policy runs.</summary>
public sealed class ReplicationIncompleteException(string path, int version, IReadOnlyList<ReplicationOutcome> failed)
    : Exception(Describe(path, version, failed))
{
    public IReadOnlyList<ReplicationOutcome> Failed { get; } = failed;

    private static string Describe(string path, int version, IReadOnlyList<ReplicationOutcome> failed)
    {
        var first = failed[0];
        var reason = first.Failures.Count > 0 ? first.Failures[^1].Reason : "no attempt succeeded";
        return $"{path} v{version}: {failed.Sum(o => o.CopiesMissing)} copies of {failed.Count} chunks could not be made; "
            + $"e.g. chunk {first.ChunkId}: {reason}";
    }
}
