using System.Collections.Concurrent;
using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Nodes;

/// <summary>A node as the gateway sees it now.</summary>
public sealed record NodeView(Guid Id, string Name, Uri Url, NodeUsage Usage, DateTime RegisteredAt, DateTime LastHeartbeatAt, string State, bool Verified)
{
    public bool IsLive => State == NodeStates.Live;
    public bool IsReadable => State != NodeStates.Dead;

    /// <summary>Its copies count toward replication: not dead, and its inventory checked since it (re)joined.</summary>
    public bool CopiesCount => IsReadable && Verified;
}

/// <summary>
/// The nodes and their liveness, kept in memory for placement and reads (hot paths) and persisted so a
/// restarted gateway still knows where chunks live. Liveness is derived from the last heartbeat on read.
/// </summary>
public sealed class NodeRegistry(IServiceScopeFactory scopes, IOptionsMonitor<ClusterOptions> cluster, TimeProvider clock, ILogger<NodeRegistry> logger)
{
    private readonly ConcurrentDictionary<Guid, NodeRecord> _nodes = new();
    private readonly ConcurrentDictionary<Guid, bool> _unverified = new();

    /// <summary>Raised after a node registers (a start or restart): its inventory must be checked against the metadata.</summary>
    public event Action<Guid>? Registered;

    public void MarkUnverified(Guid id) => _unverified[id] = true;

    public void MarkVerified(Guid id) => _unverified.TryRemove(id, out _);

    public async Task LoadAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        foreach (var node in await db.Nodes.ToListAsync(ct)) _nodes[node.Id] = node;
        logger.LogInformation("Known storage nodes: {Count}", _nodes.Count);
    }

    public async Task<NodeRecord> RegisterAsync(NodeRegistration registration, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        var record = await db.Nodes.AsTracking().FirstOrDefaultAsync(n => n.Id == registration.NodeId, ct);
        if (record is null)
        {
            record = new NodeRecord { Id = registration.NodeId, Name = registration.Name, Url = registration.Url, RegisteredAt = now };
            db.Nodes.Add(record);
        }
        record.Name = registration.Name;
        record.Url = registration.Url;
        Apply(record, registration.Usage, now);
        await db.SaveChangesAsync(ct);
        var isNew = !_nodes.ContainsKey(record.Id);
        _nodes[record.Id] = Copy(record);
        logger.LogInformation("Storage node {Name} ({Id}) registered at {Url}{New}", record.Name, record.Id, record.Url, isNew ? " (new)" : "");
        if (!isNew)
        {
            MarkUnverified(record.Id);
            Registered?.Invoke(record.Id);
        }
        return record;
    }

    /// <summary>False when the node is unknown (it must register again).</summary>
    public async Task<bool> HeartbeatAsync(Guid nodeId, NodeUsage usage, CancellationToken ct)
    {
        if (!_nodes.TryGetValue(nodeId, out var known)) return false;
        var now = clock.GetUtcNow().UtcDateTime;
        var updated = Copy(known);
        Apply(updated, usage, now);
        _nodes[nodeId] = updated;

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        await db.Nodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(s => s
            .SetProperty(n => n.LastHeartbeatAt, now)
            .SetProperty(n => n.CapacityBytes, usage.CapacityBytes)
            .SetProperty(n => n.FreeBytes, usage.FreeBytes)
            .SetProperty(n => n.UsedBytes, usage.UsedBytes)
            .SetProperty(n => n.ChunkCount, usage.ChunkCount), ct);
        return true;
    }

    public IReadOnlyList<NodeView> Snapshot()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return _nodes.Values.Select(n => View(n, now)).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
    }

    public NodeView? Find(Guid id) =>
        _nodes.TryGetValue(id, out var record) ? View(record, clock.GetUtcNow().UtcDateTime) : null;

    /// <summary>Lowers a node's free space right after a store, so placement spreads a burst of chunks before the next heartbeat.</summary>
    public void NoteStored(Guid nodeId, long bytes)
    {
        if (_nodes.TryGetValue(nodeId, out var known))
        {
            var updated = Copy(known);
            updated.FreeBytes = Math.Max(0, updated.FreeBytes - bytes);
            updated.UsedBytes += bytes;
            _nodes[nodeId] = updated;
        }
    }

    private NodeView View(NodeRecord n, DateTime now)
    {
        var silence = now - n.LastHeartbeatAt;
        var options = cluster.CurrentValue;
        var state = silence > options.DeadAfter ? NodeStates.Dead
            : silence > options.SuspectAfter ? NodeStates.Suspect
            : NodeStates.Live;
        return new NodeView(n.Id, n.Name, new Uri(n.Url.EndsWith('/') ? n.Url : n.Url + "/"),
            new NodeUsage(n.CapacityBytes, n.FreeBytes, n.UsedBytes, n.ChunkCount), n.RegisteredAt, n.LastHeartbeatAt, state,
            !_unverified.ContainsKey(n.Id));
    }

    private static void Apply(NodeRecord record, NodeUsage usage, DateTime now)
    {
        record.CapacityBytes = usage.CapacityBytes;
        record.FreeBytes = usage.FreeBytes;
        record.UsedBytes = usage.UsedBytes;
        record.ChunkCount = usage.ChunkCount;
        record.LastHeartbeatAt = now;
    }

    private static NodeRecord Copy(NodeRecord r) => new()
    {
        Id = r.Id, Name = r.Name, Url = r.Url, CapacityBytes = r.CapacityBytes, FreeBytes = r.FreeBytes,
        UsedBytes = r.UsedBytes, ChunkCount = r.ChunkCount, RegisteredAt = r.RegisteredAt, LastHeartbeatAt = r.LastHeartbeatAt,
    };
}
