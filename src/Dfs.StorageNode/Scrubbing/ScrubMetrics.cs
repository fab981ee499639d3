using System.Diagnostics.Metrics;
using Dfs.StorageNode.Diagnostics;

namespace Dfs.StorageNode.Scrubbing;

/// <summary>The scrubber's instruments, on the node's "Dfs.StorageNode" meter.</summary>
public sealed class ScrubMetrics
{
    private readonly Counter<long> _bytes;
    private readonly Counter<long> _chunks;
    private readonly Counter<long> _corrupt;
    private readonly Counter<long> _passes;

    public ScrubMetrics(IMeterFactory meterFactory, ScrubProgress progress)
    {
        var meter = meterFactory.Create(StorageNodeTelemetry.Name);
        _bytes = meter.CreateCounter<long>("dfs.storage_node.scrub.bytes", "By", "Bytes of chunks read back and hashed by the scrubber.");
        _chunks = meter.CreateCounter<long>("dfs.storage_node.scrub.chunks", "{chunk}", "Chunks read back and hashed by the scrubber.");
        _corrupt = meter.CreateCounter<long>("dfs.storage_node.scrub.corrupt", "{chunk}", "Chunks whose bytes no longer hash to their id: quarantined and reported.");
        _passes = meter.CreateCounter<long>("dfs.storage_node.scrub.passes", "{pass}", "Scrub passes completed over every chunk of the node.");
        meter.CreateObservableGauge("dfs.storage_node.scrub.pass_progress", () => progress.PassProgress, "1",
            "Share of the current scrub pass done (1 between passes once one has completed).");
        meter.CreateObservableGauge("dfs.storage_node.scrub.awaiting_report", () => progress.AwaitingReport, "{chunk}",
            "Corrupt copies quarantined that the gateway has not acknowledged yet.");
    }

    public void Scrubbed(long bytes)
    {
        _chunks.Add(1);
        _bytes.Add(bytes);
    }

    public void Corrupt() => _corrupt.Add(1);

    public void PassCompleted() => _passes.Add(1);
}
