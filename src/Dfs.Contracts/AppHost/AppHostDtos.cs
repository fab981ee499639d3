namespace Dfs.Contracts.AppHost;

/// <summary>Routes of the AppHost's API (served by its dashboard, token required).</summary>
public static class AppHostRoutes
{
    public const string Resources = "/api/resources";
    public const string Nodes = "/api/nodes";

    public static string ResourceAction(string name, string action) => $"{Resources}/{Uri.EscapeDataString(name)}/{action}";
    public static string Logs(string name) => $"{Resources}/{Uri.EscapeDataString(name)}/logs";
    public static string Node(string name) => $"{Nodes}/{Uri.EscapeDataString(name)}";
    public static string NodeRemoval(string name) => $"{Nodes}/{Uri.EscapeDataString(name)}/removal";
}

/// <summary>
/// GET /api/resources: one resource the AppHost runs. Health is what its last health probe said (healthy,
/// unhealthy, or unknown while no process runs or none was probed yet); null from an AppHost that does not say.
/// </summary>
public sealed record AppHostResource(
    string Name,
    string Kind,
    string State,
    int? Pid,
    string? Url,
    DateTimeOffset? StartedAt,
    double? UptimeSeconds,
    int Restarts,
    int? ExitCode,
    string? Health = null);

/// <summary>POST /api/nodes: the storage node that was added (healthy when this is returned).</summary>
public sealed record AddedNode(string Name);

/// <summary>DELETE /api/nodes/{name} and GET /api/nodes/{name}/removal.</summary>
public sealed record NodeRemovalInfo(string Name, string Phase, long ChunksAtRisk, string? Error);

/// <summary>GET /api/resources/{name}/logs: console lines after a sequence number.</summary>
public sealed record LogLine(long Seq, string Text);

public sealed record LogPage(IReadOnlyList<LogLine> Lines, long Last);
