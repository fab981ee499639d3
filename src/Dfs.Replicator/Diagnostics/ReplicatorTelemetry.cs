using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Dfs.Replicator.Diagnostics;

public static class ReplicatorTelemetry
{
    public const string Name = "Dfs.Replicator";
    public static readonly ActivitySource ActivitySource = new(Name);
}

/// <summary>The Replicator's counters, on the "Dfs.Replicator" meter.</summary>
public sealed class ReplicatorMetrics
{
    private readonly Counter<long> _copies;
    private readonly Counter<long> _bytesCopied;
    private readonly Counter<long> _copyFailures;
    private readonly Counter<long> _consumerFaults;
    private readonly Counter<long> _reconcilePasses;
    private readonly Counter<long> _filesDeleted;

    public ReplicatorMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(ReplicatorTelemetry.Name);
        _copies = meter.CreateCounter<long>("dfs.replicator.copies", "{copy}", "Chunk copies made and reported to the gateway.");
        _bytesCopied = meter.CreateCounter<long>("dfs.replicator.bytes_copied", "By", "Bytes streamed from one node to another.");
        _copyFailures = meter.CreateCounter<long>("dfs.replicator.copy_failures", "{failure}", "Failed attempts, by the side that failed (source, target, gateway).");
        _consumerFaults = meter.CreateCounter<long>("dfs.replicator.consumer_faults", "{fault}", "Consume attempts that threw (each retry counts).");
        _reconcilePasses = meter.CreateCounter<long>("dfs.replicator.reconcile_passes", "{pass}", "Reconcile passes run (periodic or after a node was lost).");
        _filesDeleted = meter.CreateCounter<long>("dfs.replicator.files_deleted", "{file}", "FileDeleted events seen.");
    }

    public void CopyMade(long bytes)
    {
        _copies.Add(1);
        _bytesCopied.Add(bytes);
    }

    public void CopyFailed(string side) => _copyFailures.Add(1, new KeyValuePair<string, object?>("dfs.replication.side", side));

    public void ConsumerFault(string messageType) => _consumerFaults.Add(1, new KeyValuePair<string, object?>("messaging.message.type", messageType));

    public void ReconcilePass() => _reconcilePasses.Add(1);

    public void FileDeleted() => _filesDeleted.Add(1);
}
