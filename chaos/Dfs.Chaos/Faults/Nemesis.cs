using System.Globalization;
using Dfs.AppHost.Cluster;
using Dfs.Chaos.Cluster;
using Dfs.Chaos.Workload;
using Dfs.Testing;

namespace Dfs.Chaos.Faults;

public enum FaultKind
{
    KillNode,
    PauseNode,
    LinkDown,
    DropInbound,
    DropOutbound,
    DropBoth,
    SlowLink,
    DiskFull,
    KillGateway,
    PauseGateway,
    KillReplicator,
    PauseReplicator,
    KillMessaging,
    KillCache,
    KillMetadata,
    PauseMetadata,
}

/// <summary>One fault as it happened: what, on what, from when to when (ms since the run began).</summary>
public sealed record FaultEvent(FaultKind Kind, string Target, double Start, double End, string? Error);

/// <summary>
/// Injects faults on a schedule drawn from the seed: quiet for a few seconds, one fault held for a few seconds, healed,
/// again. Every fault is logged as it starts and ends; the same seed draws the same schedule (the timing of the
/// clients around it is the machine's), so a failing seed is replayed with --seed.
/// </summary>
public sealed class Nemesis(ChaosCluster cluster, History history, int seed, IReadOnlyList<FaultKind> kinds, TextWriter log)
{
    private readonly FaultKind[] _kinds = [.. kinds];
    private readonly Random _random = new(seed);
    private readonly List<FaultEvent> _events = [];

    public IReadOnlyList<FaultEvent> Events => _events;

    public async Task RunAsync(CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(_random.Next(2_000, 6_000)), stop);
                var kind = _kinds[_random.Next(_kinds.Length)];
                var node = cluster.Nodes[_random.Next(cluster.Nodes.Count)];
                var hold = TimeSpan.FromMilliseconds(_random.Next(3_000, 10_000));
                await InjectAsync(kind, node, hold);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task InjectAsync(FaultKind kind, NamespacedNode node, TimeSpan hold)
    {
        var target = Target(kind, node);
        var start = history.Now;
        log.WriteLine($"{Seconds(start)} s  {kind} {target} for {hold.TotalSeconds:0.0} s");
        string? error = null;
        try
        {
            await ApplyAsync(kind, node);
            // The fault is held even when the run's time is up: healing starts from a known state.
            await Task.Delay(hold, CancellationToken.None);
        }
        catch (Exception e)
        {
            error = $"applying: {e.Message}";
        }
        try
        {
            await HealAsync(kind, node);
        }
        catch (Exception e)
        {
            error = (error is null ? "" : error + "; ") + $"healing: {e.Message}";
        }
        var end = history.Now;
        if (error is not null) log.WriteLine($"{Seconds(end)} s  {kind} {target}: {error}");
        lock (_events) _events.Add(new FaultEvent(kind, target, start, end, error));
    }

    private static string Target(FaultKind kind, NamespacedNode node) => kind switch
    {
        FaultKind.KillGateway or FaultKind.PauseGateway => DfsCluster.GatewayName,
        FaultKind.KillReplicator or FaultKind.PauseReplicator => DfsCluster.ReplicatorName,
        FaultKind.KillMessaging => DfsCluster.MessagingName,
        FaultKind.KillCache => DfsCluster.CacheName,
        FaultKind.KillMetadata or FaultKind.PauseMetadata => DfsCluster.MetadataName,
        _ => node.Name,
    };

    private async Task ApplyAsync(FaultKind kind, NamespacedNode node)
    {
        var network = cluster.Network;
        switch (kind)
        {
            case FaultKind.KillNode: await node.KillAsync(); break;
            case FaultKind.PauseNode: node.Pause(); break;
            case FaultKind.LinkDown: network.LinkDown(node.Host); break;
            case FaultKind.DropInbound: network.Drop(node.Host, inbound: true, outbound: false); break;
            case FaultKind.DropOutbound: network.Drop(node.Host, inbound: false, outbound: true); break;
            case FaultKind.DropBoth: network.Drop(node.Host, inbound: true, outbound: true); break;
            case FaultKind.SlowLink: network.Slow(node.Host, kbit: 512); break;
            case FaultKind.DiskFull: node.FillDisk(); break;
            case FaultKind.PauseGateway or FaultKind.PauseReplicator or FaultKind.PauseMetadata:
                Signal(Target(kind, node), Procs.SigStop);
                break;
            default: await cluster.App.KillResourceAsync(Target(kind, node)); break;
        }
    }

    private async Task HealAsync(FaultKind kind, NamespacedNode node)
    {
        switch (kind)
        {
            case FaultKind.KillNode:
                node.Start();
                using (var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
                    await node.WaitHealthyAsync(http, TimeSpan.FromMinutes(1), CancellationToken.None);
                break;
            case FaultKind.PauseNode: node.Resume(); break;
            case FaultKind.LinkDown or FaultKind.DropInbound or FaultKind.DropOutbound or FaultKind.DropBoth or FaultKind.SlowLink:
                cluster.Network.Heal(node.Host);
                break;
            case FaultKind.DiskFull: node.FreeDisk(); break;
            case FaultKind.PauseGateway or FaultKind.PauseReplicator or FaultKind.PauseMetadata:
                Signal(Target(kind, node), Procs.SigCont);
                break;
            default: await cluster.App.StartResourceAsync(Target(kind, node)); break;
        }
    }

    /// <summary>Heals whatever a node may still have on it (the end of the run, an interrupted fault).</summary>
    public async Task HealEverythingAsync()
    {
        foreach (var node in cluster.Nodes)
        {
            cluster.Network.Heal(node.Host);
            node.FreeDisk();
            node.Resume();
            if (!node.IsRunning) node.Start();
        }
        foreach (var service in ChaosCluster.Services)
        {
            if (cluster.App.ProcessId(service) is { } pid)
                foreach (var process in Procs.WithDescendants(pid)) Procs.TrySignal(process, Procs.SigCont);
            if (cluster.App.State(service) != Aspire.Hosting.ApplicationModel.KnownResourceStates.Running)
                await cluster.App.StartResourceAsync(service);
        }
    }

    /// <summary>The process and its children: PostgreSQL's backends would go on serving with only the postmaster stopped.</summary>
    private void Signal(string resource, int signal)
    {
        var pid = cluster.App.ProcessId(resource) ?? throw new InvalidOperationException($"{resource} has no process.");
        foreach (var process in Procs.WithDescendants(pid)) Procs.TrySignal(process, signal);
    }

    private static string Seconds(double ms) => (ms / 1000).ToString("0.0", CultureInfo.InvariantCulture).PadLeft(7);
}
