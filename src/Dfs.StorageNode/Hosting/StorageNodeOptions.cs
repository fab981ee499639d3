using System.ComponentModel.DataAnnotations;

namespace Dfs.StorageNode.Hosting;

/// <summary>Bound from "Dfs:StorageNode" (env: Dfs__StorageNode__DataDir, …).</summary>
public sealed class StorageNodeOptions
{
    public const string SectionName = "Dfs:StorageNode";
    private const long MiB = 1024 * 1024;

    [Required(AllowEmptyStrings = false)]
    public string Name { get; set; } = Environment.MachineName;

    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "";

    /// <summary>Null: the free space of the disk holding DataDir plus what chunks already use, measured at start.</summary>
    [Range(typeof(long), "1", "9223372036854775807")]
    public long? CapacityBytes { get; set; }

    /// <summary>Writes are refused (507) when the disk's real free space would fall below this.</summary>
    [Range(typeof(long), "0", "9223372036854775807")]
    public long ReserveBytes { get; set; } = 64 * MiB;

    /// <summary>Null: the first address the server bound.</summary>
    public string? AdvertisedUrl { get; set; }

    [Range(typeof(long), "1", "9223372036854775807")]
    public long MaxChunkBytes { get; set; } = Dfs.Contracts.Cluster.SharedSettings.MaxChunkSizeBytes;

    internal static bool IsValidAdvertisedUrl(string? url) =>
        url is null
        || (Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps));
}
