namespace Dfs.AppHost.Model;

public enum ResourceState
{
    NotStarted,
    Starting,
    /// <summary>Started and its health probe succeeds.</summary>
    Running,
    /// <summary>Was running, the health probe now fails; the process is still there.</summary>
    Unhealthy,
    Stopping,
    /// <summary>Stopped on purpose; not restarted.</summary>
    Stopped,
    /// <summary>The process ended without being asked to (or was killed as a fault injection).</summary>
    Exited,
    /// <summary>Could not be started: it exited or never became healthy while starting.</summary>
    Failed,
}

/// <summary>What the last health probe of the current process said; Unknown while no process runs or none was probed yet.</summary>
public enum ResourceHealth
{
    Unknown,
    Healthy,
    Unhealthy,
}

public static class ResourceStates
{
    /// <summary>The state as written to cluster.json.</summary>
    public static string ToContractString(this ResourceState state) => state switch
    {
        ResourceState.NotStarted => "not-started",
        _ => state.ToString().ToLowerInvariant(),
    };

    /// <summary>The health as the dashboard's API writes it: healthy, unhealthy or unknown.</summary>
    public static string ToContractString(this ResourceHealth health) => health.ToString().ToLowerInvariant();
}
