using System.ComponentModel.DataAnnotations;
using Dfs.Contracts.Cluster;

namespace Dfs.Gateway;

/// <summary>Dfs:Gateway.</summary>
public sealed class GatewayOptions : IValidatableObject
{
    public const string Section = "Dfs:Gateway";

    /// <summary>Files are cut into chunks of this size (the last one may be shorter).</summary>
    [Range(SharedSettings.MinChunkSizeBytes, SharedSettings.MaxChunkSizeBytes)]
    public long ChunkSizeBytes { get; set; } = 8L * 1024 * 1024;

    [Range(SharedSettings.MinReplicationFactor, SharedSettings.MaxReplicationFactor)]
    public int ReplicationFactor { get; set; } = 3;

    /// <summary>How many nodes a chunk store tries before the PUT fails (the first and up to 10 more: Polly's hedging limit).</summary>
    [Range(1, 11)]
    public int MaxStoreAttempts { get; set; } = 4;

    /// <summary>
    /// Chunk stores one upload keeps in flight while it reads the next chunk from the client: more overlaps
    /// the client's bytes with the nodes' writes, and costs a chunk buffer each.
    /// </summary>
    [Range(1, 16)]
    public int ParallelChunkStores { get; set; } = 2;

    /// <summary>Time limit for one chunk transfer to or from a node.</summary>
    [Range(1, 600)]
    public int NodeRequestTimeoutSeconds { get; set; } = 60;

    /// <summary>
    /// Hedging: a chunk read or single-copy store that has not answered after this long, and after NodeSpeeds.HedgeFactor
    /// times what the nodes' recent pace says it should take, asks another copy (a read) or another node (a store) too;
    /// the first good answer wins and the other request is dropped. A node that stalls without failing (a congested link,
    /// a paused process, a dying disk) then costs a client this delay instead of the node time limit. 0: no hedging.
    /// </summary>
    [Range(0, 600_000)]
    public int HedgeAfterMs { get; set; } = 1000;

    /// <summary>How long the signed chunk URLs of GET /api/layout stay valid.</summary>
    [Range(10, 24 * 3600)]
    public int DirectReadSeconds { get; set; } = 300;

    /// <summary>
    /// A file of at most this many bytes is kept in the metadata store with its version instead of on the nodes: one
    /// transaction (one WAL flush) makes it durable, no node round trip, no chunk file, no fsync per file. Its safety is then
    /// the database's (its WAL and its own replicas), not the replication factor's; 0 (the default) keeps every file on the
    /// nodes. Smaller than the chunk size in effect; durability=all uploads always go to the nodes.
    /// </summary>
    [Range(0, MaxInlineBytes)]
    public int InlineMaxBytes { get; set; }

    /// <summary>Beyond this a row would outweigh what it saves (the bytes go through the database on every read).</summary>
    public const int MaxInlineBytes = 256 * 1024;

    [Range(1, 10_000)]
    public int MaxListPageSize { get; set; } = 1000;

    [Range(1, 10_000)]
    public int DefaultListPageSize { get; set; } = 1000;

    /// <summary>How long a chunk must stay unreferenced (or unknown, on a node) before it is deleted.</summary>
    [Range(0, int.MaxValue)]
    public int GcGraceMs { get; set; } = 60 * 60 * 1000;

    [Range(100, int.MaxValue)]
    public int GcIntervalMs { get; set; } = 60 * 1000;

    [Range(1, 100_000)]
    public int GcBatchSize { get; set; } = 1000;

    /// <summary>
    /// The local port whose requests are the S3 API (the AppHost's endpoint "s3"); null: no S3 API. Without configured
    /// addresses the gateway listens on it (loopback) beside its API port.
    /// </summary>
    [Range(1, 65535)]
    public int? S3Port { get; set; }

    /// <summary>
    /// Virtual-host-style addressing: a request to BUCKET.{S3Domain} is for BUCKET (e.g. "s3.localhost"). Null: path-style
    /// only (BUCKET as the first path segment), which every client can be told to use.
    /// </summary>
    [RegularExpression(@"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$", ErrorMessage = "Dfs:Gateway:S3Domain must be a host name such as s3.localhost.")]
    public string? S3Domain { get; set; }

    /// <summary>
    /// 64 hex digits (32 bytes): the AES-256-GCM key the S3 access keys' secrets are sealed with in the metadata store.
    /// SigV4 needs each secret in the clear, so it cannot be hashed; kept out of the database, a copy of the database alone
    /// gives no secret away. Every gateway of a cluster needs the same one. Unset (or empty): access keys can be neither
    /// created nor used, everything else works.
    /// </summary>
    public string? AccessKeyMasterKey { get; set; }

    public const int AccessKeyMasterKeyHexDigits = 64;

    /// <summary>The master key's 32 bytes, or null when it is not set.</summary>
    public byte[]? AccessKeyMasterKeyBytes() =>
        string.IsNullOrEmpty(AccessKeyMasterKey) ? null : Convert.FromHexString(AccessKeyMasterKey);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // The value is a secret: the message says what is wrong with it, never what it is.
        if (!string.IsNullOrEmpty(AccessKeyMasterKey)
            && (AccessKeyMasterKey.Length != AccessKeyMasterKeyHexDigits || !AccessKeyMasterKey.All(char.IsAsciiHexDigit)))
            yield return new ValidationResult(
                $"{Section}:{nameof(AccessKeyMasterKey)} must be {AccessKeyMasterKeyHexDigits} hex digits (a 32-byte key), not {AccessKeyMasterKey.Length} characters"
                + (AccessKeyMasterKey.All(char.IsAsciiHexDigit) ? "" : " with some that are not hex digits") + ".",
                [nameof(AccessKeyMasterKey)]);
    }
}

/// <summary>Dfs:Cluster: liveness timing shared by the gateway and the nodes.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Dfs:Cluster";

    [Range(SharedSettings.MinHeartbeatIntervalMs, SharedSettings.MaxHeartbeatIntervalMs)]
    public int HeartbeatIntervalMs { get; set; } = 2000;

    /// <summary>
    /// A node that missed heartbeats for this long is suspect: it gets no new chunks but still serves reads.
    /// Unset: three heartbeat intervals. Never longer than <see cref="NodeDeadAfterMs"/>.
    /// </summary>
    [Range(100, 600_000)]
    public int? NodeSuspectAfterMs { get; set; }

    public TimeSpan HeartbeatInterval => TimeSpan.FromMilliseconds(HeartbeatIntervalMs);

    public TimeSpan SuspectAfter => TimeSpan.FromMilliseconds(Math.Min(NodeSuspectAfterMs ?? 3 * HeartbeatIntervalMs, NodeDeadAfterMs));

    public TimeSpan DeadAfter => TimeSpan.FromMilliseconds(NodeDeadAfterMs);

    /// <summary>A node silent for this long is dead: its copies no longer count.</summary>
    [Range(SharedSettings.MinNodeDeadAfterMs, SharedSettings.MaxNodeDeadAfterMs)]
    public int NodeDeadAfterMs { get; set; } = 15_000;
}
