namespace Dfs.AppHost.Model;

/// <summary>A consistent copy of one resource's state at one moment.</summary>
public sealed record ResourceSnapshot(
    string Name,
    string Kind,
    ResourceState State,
    int? Pid,
    Uri? Url,
    DateTimeOffset? StartedAt,
    int RestartCount,
    int? ExitCode,
    string DataDir,
    IReadOnlyList<string> RecentOutput,
    ResourceHealth Health = ResourceHealth.Unknown);
