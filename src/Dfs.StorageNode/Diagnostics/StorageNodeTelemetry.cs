using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Dfs.StorageNode.Diagnostics;

public static class StorageNodeTelemetry
{
    public const string Name = "Dfs.StorageNode";
    public static readonly ActivitySource ActivitySource = new(Name);
}

/// <summary>The node's counters, on the "Dfs.StorageNode" meter.</summary>
public sealed class StorageNodeMetrics
{
    private readonly Counter<long> _chunksWritten;
    private readonly Counter<long> _bytesWritten;
    private readonly Counter<long> _bytesRead;
    private readonly Counter<long> _integrityRejections;

    public StorageNodeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(StorageNodeTelemetry.Name);
        _chunksWritten = meter.CreateCounter<long>("dfs.storage_node.chunks_written", "{chunk}", "Chunks stored (not counting PUTs of chunks already present).");
        _bytesWritten = meter.CreateCounter<long>("dfs.storage_node.bytes_written", "By", "Bytes of chunks stored.");
        _bytesRead = meter.CreateCounter<long>("dfs.storage_node.bytes_read", "By", "Bytes of chunks served.");
        _integrityRejections = meter.CreateCounter<long>("dfs.storage_node.integrity_rejections", "{chunk}", "PUTs refused because the bytes did not hash to the id.");
    }

    public void ChunkWritten(long bytes)
    {
        _chunksWritten.Add(1);
        _bytesWritten.Add(bytes);
    }

    public void BytesRead(long bytes) => _bytesRead.Add(bytes);

    public void IntegrityRejected() => _integrityRejections.Add(1);
}
