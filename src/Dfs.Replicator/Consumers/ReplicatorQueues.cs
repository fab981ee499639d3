namespace Dfs.Replicator.Consumers;

/// <summary>
/// The consumers' queue names: what the kebab-case formatter derives from the consumer names, pinned in the
/// definitions so they hold whatever formatter the host uses. The gateway reads the error queues' depths.
/// </summary>
public static class ReplicatorQueues
{
    public const string FileStored = "file-stored";
    public const string NodeLost = "node-lost";
    public const string FileDeleted = "file-deleted";
    public const string NodeDraining = "node-draining";

    /// <summary>MassTransit moves a message that exhausted its retries to "&lt;queue&gt;_error".</summary>
    public const string ErrorSuffix = "_error";

    public static IReadOnlyList<string> All { get; } = [FileStored, NodeLost, FileDeleted, NodeDraining];

    public static IReadOnlyList<string> ErrorQueues { get; } = [.. All.Select(q => q + ErrorSuffix)];
}
