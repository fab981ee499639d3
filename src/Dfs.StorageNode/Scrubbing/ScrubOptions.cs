using System.ComponentModel.DataAnnotations;

namespace Dfs.StorageNode.Scrubbing;

/// <summary>Bound from "Dfs:StorageNode:Scrub" (env: Dfs__StorageNode__Scrub__BytesPerSecond, …).</summary>
public sealed class ScrubOptions
{
    public const string SectionName = "Dfs:StorageNode:Scrub";
    private const long MiB = 1024 * 1024;

    /// <summary>
    /// The most the scrubber reads a second, so it never competes with clients for the disk: 8 MiB/s covers about
    /// 4.8 TiB a week. 0 turns scrubbing off (quarantined copies from before are still reported).
    /// </summary>
    [Range(typeof(long), "0", "9223372036854775807",
        ErrorMessage = SectionName + ":" + nameof(BytesPerSecond) + " must be 0 (scrubbing off) or a positive number of bytes a second.")]
    public long BytesPerSecond { get; set; } = 8 * MiB;

    /// <summary>
    /// The shortest time between the starts of two passes: a week, like Ceph's deep scrub. A pass that takes longer
    /// (more data than the rate reads in a period) is followed by the next at once.
    /// </summary>
    [Range(1, 366 * 24 * 3600,
        ErrorMessage = SectionName + ":" + nameof(PeriodSeconds) + " must be a whole number of seconds from 1 to 31622400 (a year).")]
    public int PeriodSeconds { get; set; } = 7 * 24 * 3600;
}
