namespace Dfs.Gateway.Shared;

/// <summary>What gateways derive local copies from: when one gateway changes it, every gateway drops those copies.</summary>
public enum SharedEpoch
{
    /// <summary>Users, passwords, tokens: the verified-credential cache.</summary>
    Credentials,

    /// <summary>Node registrations, drains, removals: the node registry (heartbeats are read from the metadata as they come).</summary>
    Nodes,
}

/// <summary>A token bucket's answer: allowed, or refused with how long until a token is there.</summary>
public readonly record struct RateDecision(bool Allowed, TimeSpan RetryAfter);

/// <summary>
/// What the gateways of a cluster must see alike and at once, beside the metadata (the source of truth): epochs that end
/// local caches, and rate-limit buckets. Redis when the cluster has one; in-process for a single gateway (embedded).
/// Every read may answer "unknown" (the store is unreachable): callers then trust no local copy and ask the metadata.
/// </summary>
public interface ISharedState
{
    /// <summary>True when several gateways can share this state (Redis); false for one gateway alone.</summary>
    bool IsShared { get; }

    /// <summary>The epoch's current value; null when it cannot be read now, and then nothing derived from it may be trusted.</summary>
    ValueTask<string?> ReadEpochAsync(SharedEpoch epoch);

    /// <summary>
    /// Ends an epoch after a change was committed to the metadata: every gateway's copies derived under the old one are
    /// dropped. When the store is unreachable the change is kept and published before this gateway trusts the store again.
    /// </summary>
    Task AdvanceEpochAsync(SharedEpoch epoch);

    /// <summary>Takes a token from a shared bucket; null when the store cannot be reached (the caller limits locally).</summary>
    ValueTask<RateDecision?> TryTakeTokenAsync(string bucket, int perSecond, int burst);

    /// <summary>Raised when the link to the shared store is lost or comes back: whatever was cached may have missed a change.</summary>
    event Action? LinkChanged;
}
