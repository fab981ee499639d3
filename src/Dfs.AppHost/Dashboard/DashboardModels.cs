using System.Collections.Concurrent;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Dashboard;

/// <summary>GET /api/resources: one resource as the dashboard and `dfs` see it.</summary>
internal sealed record ResourceView(
    string Name,
    string Kind,
    string State,
    int? Pid,
    string? Url,
    DateTimeOffset? StartedAt,
    long? UptimeSeconds,
    int Restarts,
    int? ExitCode)
{
    public static ResourceView From(ResourceSnapshot s, DateTimeOffset now) => new(
        s.Name,
        s.Kind,
        s.State.ToContractString(),
        s.Pid,
        s.Url?.ToString().TrimEnd('/'),
        s.StartedAt,
        s is { Pid: not null, StartedAt: { } started } ? (long)Math.Max(0, (now - started).TotalSeconds) : null,
        s.RestartCount,
        s.ExitCode);

    /// <summary>What the health probe says, in words (the state already carries it).</summary>
    public static string Health(ResourceState state) => state switch
    {
        ResourceState.Running => "healthy",
        ResourceState.Unhealthy => "unhealthy",
        ResourceState.Starting => "starting",
        _ => "",
    };
}

/// <summary>POST /api/nodes (201).</summary>
internal sealed record NodeAddedView(string Name);

/// <summary>DELETE /api/nodes/{name} (202) and GET /api/nodes/{name}/removal. ChunksAtRisk is -1 until the gateway first answered.</summary>
internal sealed record RemovalView(string Name, string Phase, long ChunksAtRisk, string? Error)
{
    public static RemovalView From(NodeRemoval removal) => new(removal.Name, removal.Phase, removal.ChunksAtRisk, removal.Error);
}

/// <summary>
/// Which node removals to show: those of the storage nodes there are, plus those started here, whose
/// node is gone from the resources once removed.
/// </summary>
internal sealed class RemovalTracker(DfsApplication app)
{
    private readonly ConcurrentDictionary<string, bool> _started = new(StringComparer.Ordinal);

    public NodeRemoval Start(string name)
    {
        var removal = app.RemoveStorageNode(name);
        _started[name] = true;
        return removal;
    }

    public IReadOnlyList<NodeRemoval> All() =>
    [
        .. app.Resources.Where(r => r.Kind == ResourceKinds.StorageNode).Select(r => r.Name)
            .Union(_started.Keys)
            .Select(app.GetNodeRemoval)
            .OfType<NodeRemoval>()
            .OrderBy(r => r.Name, StringComparer.Ordinal),
    ];
}

internal static class ResourceLookup
{
    public static ProcessResource? Find(this DfsApplication app, string name) =>
        app.Resources.FirstOrDefault(r => string.Equals(r.Name, name, StringComparison.Ordinal));
}
