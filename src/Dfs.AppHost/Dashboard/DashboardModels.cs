using System.Collections.Concurrent;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.Contracts.AppHost;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Dashboard;

/// <summary>The JSON the API answers with: the records `dfs cluster` reads (Dfs.Contracts.AppHost).</summary>
internal static class DashboardViews
{
    public static AppHostResource Resource(ResourceSnapshot s, DateTimeOffset now) => new(
        s.Name,
        s.Kind,
        s.State.ToContractString(),
        s.Pid,
        s.Url?.ToString().TrimEnd('/'),
        s.StartedAt,
        s is { Pid: not null, StartedAt: { } started } ? Math.Floor(Math.Max(0, (now - started).TotalSeconds)) : null,
        s.RestartCount,
        s.ExitCode,
        s.Health.ToContractString());

    /// <summary>ChunksAtRisk is -1 until the gateway first answered.</summary>
    public static NodeRemovalInfo Removal(NodeRemoval removal) => new(removal.Name, removal.Phase, removal.ChunksAtRisk, removal.Error);
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
