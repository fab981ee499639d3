using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Dfs.Gateway;

/// <summary>The gateway's own ActivitySource and Meter ("Dfs.Gateway"), picked up by ServiceDefaults' "Dfs.*".</summary>
public sealed class GatewayMetrics
{
    public const string Name = "Dfs.Gateway";
    public static readonly ActivitySource Source = new(Name);

    private readonly Counter<long> _filesStored;
    private readonly Counter<long> _bytesStored;
    private readonly Counter<long> _bytesServed;
    private readonly Histogram<double> _chunkStoreSeconds;
    private readonly Counter<long> _storeRetries;
    private readonly Counter<long> _readFailovers;
    private readonly Counter<long> _readHedges;
    private readonly Counter<long> _storeHedges;
    private readonly Counter<long> _corruptCopies;
    private readonly Counter<long> _eventsPublished;
    private readonly Counter<long> _eventsDropped;
    private readonly Counter<long> _chunksCollected;
    private readonly Counter<long> _cacheLookups;
    private readonly Counter<long> _sharedStateUnreachable;
    private long _credentialHits;
    private long _credentialMisses;
    private long _sharedStateFailures;
    private long _chunkHits;
    private long _chunkMisses;
    private long _underReplicated;
    private long _backlog;
    private long _unreadable;
    private long _errorQueueMessages;

    public GatewayMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(Name);
        _filesStored = meter.CreateCounter<long>("dfs.gateway.files_stored");
        _bytesStored = meter.CreateCounter<long>("dfs.gateway.bytes_stored", "By");
        _bytesServed = meter.CreateCounter<long>("dfs.gateway.bytes_served", "By");
        _chunkStoreSeconds = meter.CreateHistogram<double>("dfs.gateway.chunk_store.duration", "s");
        _storeRetries = meter.CreateCounter<long>("dfs.gateway.chunk_store.retries");
        _readFailovers = meter.CreateCounter<long>("dfs.gateway.read.failovers");
        // Chunk reads that asked a second copy because the first was slow to answer, by which copy answered.
        _readHedges = meter.CreateCounter<long>("dfs.gateway.read.hedges", "{read}");
        // Chunk stores that also went to another node because the first was slow to answer.
        _storeHedges = meter.CreateCounter<long>("dfs.gateway.chunk_store.hedges", "{store}");
        _corruptCopies = meter.CreateCounter<long>("dfs.gateway.read.corrupt_copies");
        _eventsPublished = meter.CreateCounter<long>("dfs.gateway.events.published");
        _eventsDropped = meter.CreateCounter<long>("dfs.gateway.events.dropped");
        _chunksCollected = meter.CreateCounter<long>("dfs.gateway.gc.chunks_collected");
        _cacheLookups = meter.CreateCounter<long>("dfs.gateway.cache.lookups", "{lookup}");
        // Reads of the shared state (Redis) that found it unreachable: the gateway then served from the metadata alone.
        _sharedStateUnreachable = meter.CreateCounter<long>("dfs.gateway.shared_state.unreachable", "{read}");
        // Below their factor, whatever the node count: a factor above the live nodes shows here and stays until nodes join.
        meter.CreateObservableGauge("dfs.gateway.chunks.under_replicated", () => Interlocked.Read(ref _underReplicated));
        // What the Replicator can repair now; this one should drain to zero.
        meter.CreateObservableGauge("dfs.gateway.chunks.replication_backlog", () => Interlocked.Read(ref _backlog));
        meter.CreateObservableGauge("dfs.gateway.chunks.unreadable", () => Interlocked.Read(ref _unreadable));
        // Messages the Replicator gave up on (its consumers' "_error" queues on RabbitMQ); the reconciler repairs
        // their chunks anyway, but a growing number means something keeps failing.
        meter.CreateObservableGauge("dfs.gateway.replication.error_queue_messages", () => Interlocked.Read(ref _errorQueueMessages), "{message}");
    }

    public void FileStored(long bytes) { _filesStored.Add(1); _bytesStored.Add(bytes); }
    /// <summary>How long a node took to store a chunk, per node: a slow disk shows as one node's latency.</summary>
    public void ChunkStored(string node, TimeSpan elapsed) => _chunkStoreSeconds.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("dfs.node", node));
    public void StoreRetried(string kind) => _storeRetries.Add(1, new KeyValuePair<string, object?>("kind", kind));
    public void BytesServed(long bytes) => _bytesServed.Add(bytes);
    public void ReadFailedOver(string reason) => _readFailovers.Add(1, new KeyValuePair<string, object?>("reason", reason));
    /// <param name="answeredBy">"first" (the copy asked first), "hedge" (a copy asked later) or "none" (every copy failed).</param>
    public void ReadHedged(string answeredBy) => _readHedges.Add(1, new KeyValuePair<string, object?>("answered_by", answeredBy));
    public void StoreHedged() => _storeHedges.Add(1);
    public void CorruptCopy() => _corruptCopies.Add(1);
    public void EventPublished() => _eventsPublished.Add(1);
    public void EventDropped() => _eventsDropped.Add(1);
    public void ChunkCollected() => _chunksCollected.Add(1);

    public void CredentialLookup(bool hit)
    {
        Interlocked.Increment(ref hit ? ref _credentialHits : ref _credentialMisses);
        _cacheLookups.Add(1, new KeyValuePair<string, object?>("cache", "credentials"), new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));
    }

    /// <summary>A small chunk's bytes looked up: "memory", "redis" (hits) or "miss".</summary>
    public void ChunkCacheLookup(string result)
    {
        Interlocked.Increment(ref result == "miss" ? ref _chunkMisses : ref _chunkHits);
        _cacheLookups.Add(1, new KeyValuePair<string, object?>("cache", "chunks"), new KeyValuePair<string, object?>("result", result));
    }

    public void LayoutCacheLookup(bool hit) =>
        _cacheLookups.Add(1, new KeyValuePair<string, object?>("cache", "layouts"), new KeyValuePair<string, object?>("result", hit ? "hit" : "miss"));

    public void SharedStateUnreachable()
    {
        Interlocked.Increment(ref _sharedStateFailures);
        _sharedStateUnreachable.Add(1);
    }

    /// <summary>This process's totals since it started (GET /api/gateway).</summary>
    public (long CredentialHits, long CredentialMisses, long ChunkHits, long ChunkMisses, long SharedStateUnreachable) CacheTotals =>
        (Interlocked.Read(ref _credentialHits), Interlocked.Read(ref _credentialMisses), Interlocked.Read(ref _chunkHits), Interlocked.Read(ref _chunkMisses),
            Interlocked.Read(ref _sharedStateFailures));

    public void ReplicationMeasured(long underReplicated, long backlog, long unreadable)
    {
        Interlocked.Exchange(ref _underReplicated, underReplicated);
        Interlocked.Exchange(ref _backlog, backlog);
        Interlocked.Exchange(ref _unreadable, unreadable);
    }

    public void ErrorQueuesMeasured(long messages) => Interlocked.Exchange(ref _errorQueueMessages, messages);
}
