using Dfs.Contracts.Clients;

namespace Dfs.Contracts.Internal;

/// <summary>
/// Synchronous pipeline replication (HDFS style) between the gateway and the nodes. A chunk PUT that carries
/// <see cref="Downstream"/> is stored by the node it is sent to while the node forwards the same bytes to the first node of
/// the list, which does the same with the rest; each node answers only after its own copy is fsynced and its downstream
/// answered, with how many durable copies exist from it to the end of the chain.
/// </summary>
public static class ChunkPipelineHeaders
{
    /// <summary>Request: the nodes after this one, in order, space-separated absolute URLs.</summary>
    public const string Downstream = "Dfs-Pipeline";

    /// <summary>
    /// Request: the time one hop may take, in whole seconds. A node waits for its downstream at most this times the number
    /// of nodes after it, so a hung node far down the chain is reported by its upstream neighbour before anyone above
    /// gives up on the whole chain.
    /// </summary>
    public const string HopTimeout = "Dfs-Pipeline-Hop-Timeout";

    /// <summary>Response: the durable copies from the answering node to the end of the chain (a prefix of the chain).</summary>
    public const string Copies = "Dfs-Pipeline-Copies";

    /// <summary>Response: why the chain stopped short (the failure kind, a colon, the node and its reason).</summary>
    public const string Failure = "Dfs-Pipeline-Failure";

    /// <summary>A chain is at most this long: a replication factor's worth of nodes.</summary>
    public const int MaxNodes = 16;

    public static string FormatFailure(StorageFailureKind kind, string reason) =>
        $"{kind}: {new string([.. reason.Select(c => c is >= ' ' and <= '~' ? c : ' ')])}";

    public static (StorageFailureKind Kind, string Reason) ParseFailure(string? value)
    {
        var colon = value?.IndexOf(':') ?? -1;
        return colon > 0 && Enum.TryParse<StorageFailureKind>(value![..colon], out var kind)
            ? (kind, value[(colon + 1)..].Trim())
            : (StorageFailureKind.ServerError, value ?? "the chain stopped short without saying why");
    }

    public static string FormatDownstream(IEnumerable<Uri> nodes) => string.Join(' ', nodes.Select(n => n.AbsoluteUri));

    /// <summary>Absolute http(s) URLs only, at most <see cref="MaxNodes"/> − 1 of them; null when the value is not that.</summary>
    public static IReadOnlyList<Uri>? ParseDownstream(string value)
    {
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is 0 or >= MaxNodes) return null;
        var nodes = new List<Uri>(parts.Length);
        foreach (var part in parts)
        {
            if (!Uri.TryCreate(part, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")) return null;
            nodes.Add(uri);
        }
        return nodes;
    }
}
