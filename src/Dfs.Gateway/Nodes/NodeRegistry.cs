using System.Collections.Concurrent;
using Dfs.Contracts.Api;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Dfs.Gateway.Shared;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Nodes;

/// <summary>A node as the gateway sees it now.</summary>
public sealed record NodeView(Guid Id, string Name, Uri Url, NodeUsage Usage, DateTime RegisteredAt, DateTime LastHeartbeatAt, string State, bool Verified,
    DateTime? DrainingSince = null)
{
    public bool IsLive => State == NodeStates.Live;

    /// <summary>Can serve a read (and be a copy source), draining or not.</summary>
    public bool IsReadable => State != NodeStates.Dead;

    /// <summary>Being emptied before removal: it takes no new chunks, and its copies are sources but not copies.</summary>
    public bool Draining => DrainingSince is not null;

    /// <summary>Its copies count toward replication: not dead, its inventory checked since it (re)joined, and not draining.</summary>
    public bool CopiesCount => IsReadable && Verified && !Draining;

    /// <summary>A copy here is a usable source for repairs but not a copy: the node is draining.</summary>
    public bool DrainingSource => IsReadable && Verified && Draining;
}

/// <summary>
/// The nodes and their liveness, kept in memory for placement and reads (hot paths) and persisted so a
/// restarted gateway still knows where chunks live. Liveness is derived from the last heartbeat on read.
/// Several gateways share the nodes through the metadata: each refreshes its copy every half heartbeat (a heartbeat
/// any gateway received counts on all), and at once when the nodes epoch says another gateway registered, drained or
/// removed a node (<see cref="EnsureCurrentAsync"/>, before every placement).
/// </summary>
public sealed class NodeRegistry(IServiceScopeFactory scopes, ISharedState shared, IOptionsMonitor<ClusterOptions> cluster, TimeProvider clock,
    ILogger<NodeRegistry> logger)
{
    // One writer of the in-memory state at a time (refresh, registration, drain, removal): a refresh that read the metadata
    // before a local change must not overwrite that change after it.
    private readonly SemaphoreSlim _writer = new(1, 1);
    private string? _epoch;
    private readonly ConcurrentDictionary<Guid, NodeRecord> _nodes = new();
    private readonly ConcurrentDictionary<Guid, bool> _unverified = new();
    // Apart from the records: a heartbeat replaces a node's record with an updated copy, and a copy taken just
    // before a drain started would otherwise undo the drain.
    private readonly ConcurrentDictionary<Guid, DateTime> _draining = new();
    // Removed node ids and when: kept (and persisted) so a removed node's process is told to stop, not to register.
    private readonly ConcurrentDictionary<Guid, DateTime> _removed = new();
    private readonly ConcurrentDictionary<Guid, CancellationTokenSource> _unreachable = new();

    /// <summary>Raised after a node registers (a start or restart): its inventory must be checked against the metadata.</summary>
    public event Action<Guid>? Registered;

    public void MarkUnverified(Guid id) => _unverified[id] = true;

    public void MarkVerified(Guid id) => _unverified.TryRemove(id, out _);

    public async Task LoadAsync(CancellationToken ct)
    {
        await RefreshAsync(ct);
        logger.LogInformation("Known storage nodes: {Count}", _nodes.Count);
    }

    /// <summary>Refreshes from the metadata when another gateway changed the nodes since the last look (or when that cannot be known).</summary>
    public async Task EnsureCurrentAsync(CancellationToken ct)
    {
        var epoch = await shared.ReadEpochAsync(SharedEpoch.Nodes);
        if (epoch is not null && epoch == Volatile.Read(ref _epoch)) return;
        await RefreshAsync(ct);
        Volatile.Write(ref _epoch, epoch);
    }

    /// <summary>
    /// Takes the nodes as the metadata has them: registrations, drains and removals by any gateway, and the latest heartbeat
    /// any gateway recorded (a heartbeat this gateway saw later than the metadata's is kept).
    /// </summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        await _writer.WaitAsync(ct);
        try
        {
            var rows = await db.Nodes.ToListAsync(ct);
            var removed = await db.RemovedNodes.ToDictionaryAsync(r => r.Id, r => r.RemovedAt, ct);
            foreach (var row in rows)
            {
                _nodes.AddOrUpdate(row.Id, row, (_, known) => known.LastHeartbeatAt > row.LastHeartbeatAt ? WithRegistration(known, row) : row);
                if (row.DrainingSince is { } since) _draining[row.Id] = since;
                else _draining.TryRemove(row.Id, out _);
            }
            var present = rows.Select(r => r.Id).ToHashSet();
            foreach (var id in _nodes.Keys.Where(id => !present.Contains(id)).ToList())
            {
                _nodes.TryRemove(id, out _);
                _unverified.TryRemove(id, out _);
                _draining.TryRemove(id, out _);
            }
            foreach (var (id, at) in removed) _removed[id] = at;
            foreach (var id in _removed.Keys.Where(id => !removed.ContainsKey(id)).ToList()) _removed.TryRemove(id, out _);
        }
        finally
        {
            _writer.Release();
        }
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
        // A registration is a (re)start of the node's process, so it is a deliberate return: the removal mark goes,
        // in the same transaction as the record that brings the node back.
        var mark = await db.RemovedNodes.AsTracking().FirstOrDefaultAsync(r => r.Id == registration.NodeId, ct);
        if (mark is not null) db.RemovedNodes.Remove(mark);
        bool isNew;
        DateTime removedAt;
        bool wasRemoved;
        await _writer.WaitAsync(ct);
        try
        {
            await db.SaveChangesAsync(ct);
            isNew = !_nodes.ContainsKey(record.Id);
            _nodes[record.Id] = Copy(record);
            wasRemoved = _removed.TryRemove(record.Id, out removedAt);
        }
        finally
        {
            _writer.Release();
        }
        await shared.AdvanceEpochAsync(SharedEpoch.Nodes);
        if (wasRemoved)
            logger.LogInformation("Storage node {Name} ({Id}), removed at {RemovedAt:O}, registered again: it rejoins as a new, empty node",
                record.Name, record.Id, removedAt);
        logger.LogInformation("Storage node {Name} ({Id}) registered at {Url}{New}", record.Name, record.Id, record.Url, isNew ? " (new)" : "");
        if (!isNew)
        {
            MarkUnverified(record.Id);
            Registered?.Invoke(record.Id);
        }
        return record;
    }

    /// <summary>Records a heartbeat; a node not in the registry is <see cref="HeartbeatOutcome.Removed"/> when it was removed, else unknown.</summary>
    public async Task<HeartbeatOutcome> HeartbeatAsync(Guid nodeId, NodeUsage usage, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // A node another gateway registered or removed a moment ago: the metadata knows it before this copy does.
        if (!_nodes.ContainsKey(nodeId) && !_removed.ContainsKey(nodeId)) await RefreshAsync(ct);
        else await EnsureCurrentAsync(ct);
        // Compare-and-swap, so a heartbeat racing a removal cannot bring the removed node back.
        while (true)
        {
            if (!_nodes.TryGetValue(nodeId, out var known))
                return _removed.ContainsKey(nodeId) ? HeartbeatOutcome.Removed : HeartbeatOutcome.Unknown;
            var updated = Copy(known);
            Apply(updated, usage, now);
            if (_nodes.TryUpdate(nodeId, updated, known)) break;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
        await db.Nodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(s => s
            .SetProperty(n => n.LastHeartbeatAt, now)
            .SetProperty(n => n.CapacityBytes, usage.CapacityBytes)
            .SetProperty(n => n.FreeBytes, usage.FreeBytes)
            .SetProperty(n => n.UsedBytes, usage.UsedBytes)
            .SetProperty(n => n.ChunkCount, usage.ChunkCount), ct);
        return HeartbeatOutcome.Accepted;
    }

    /// <summary>When the node was removed, or null when it was not (or registered again since).</summary>
    public DateTime? RemovedAt(Guid nodeId) => _removed.TryGetValue(nodeId, out var at) ? at : null;

    /// <summary>
    /// Marks a node draining (idempotent: the first request's time is kept), persisted first so a restarted
    /// gateway goes on draining it. Null when the node is unknown.
    /// </summary>
    public async Task<NodeView?> StartDrainAsync(Guid nodeId, CancellationToken ct)
    {
        if (!_nodes.ContainsKey(nodeId)) return null;
        bool started;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
            await _writer.WaitAsync(ct);
            try
            {
                var since = _draining.TryGetValue(nodeId, out var already) ? already : clock.GetUtcNow().UtcDateTime;
                await db.Nodes.Where(n => n.Id == nodeId && n.DrainingSince == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(n => n.DrainingSince, since), ct);
                // Another gateway may have started it first: its time is the one kept.
                since = await db.Nodes.Where(n => n.Id == nodeId).Select(n => n.DrainingSince).FirstOrDefaultAsync(ct) ?? since;
                started = _draining.TryAdd(nodeId, since);
            }
            finally
            {
                _writer.Release();
            }
        }
        await shared.AdvanceEpochAsync(SharedEpoch.Nodes);
        if (started) logger.LogInformation("Storage node {Name} ({Id}) is draining", _nodes.GetValueOrDefault(nodeId)?.Name, nodeId);
        return Find(nodeId);
    }

    /// <summary>Stops a drain: the node takes new chunks again and its copies count again. Null when the node is unknown.</summary>
    public async Task<NodeView?> CancelDrainAsync(Guid nodeId, CancellationToken ct)
    {
        if (!_nodes.ContainsKey(nodeId)) return null;
        bool cancelled;
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
            await _writer.WaitAsync(ct);
            try
            {
                await db.Nodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(s => s.SetProperty(n => n.DrainingSince, (DateTime?)null), ct);
                cancelled = _draining.TryRemove(nodeId, out _);
            }
            finally
            {
                _writer.Release();
            }
        }
        await shared.AdvanceEpochAsync(SharedEpoch.Nodes);
        if (cancelled) logger.LogInformation("Storage node {Name} ({Id}) is no longer draining", _nodes.GetValueOrDefault(nodeId)?.Name, nodeId);
        return Find(nodeId);
    }

    /// <summary>
    /// Forgets a node: its replica records and its record go, and its removal mark is written, in one transaction;
    /// then it leaves the registry. Its process is answered 410 Gone from its next heartbeat on and stops; only a
    /// new registration (the process started again) brings it back, as a new, empty node.
    /// </summary>
    public async Task<bool> RemoveAsync(Guid nodeId, CancellationToken ct)
    {
        if (!_nodes.TryGetValue(nodeId, out var known)) return false;
        var now = clock.GetUtcNow().UtcDateTime;
        await _writer.WaitAsync(ct);
        try
        {
            await RemoveLockedAsync(nodeId, known, now, ct);
        }
        finally
        {
            _writer.Release();
        }
        await shared.AdvanceEpochAsync(SharedEpoch.Nodes);
        return true;
    }

    private async Task RemoveLockedAsync(Guid nodeId, NodeRecord known, DateTime now, CancellationToken ct)
    {
        await using (var scope = scopes.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<MetadataDbContext>();
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var replicas = await db.Replicas.Where(r => r.NodeId == nodeId).ExecuteDeleteAsync(ct);
            await db.Nodes.Where(n => n.Id == nodeId).ExecuteDeleteAsync(ct);
            // A mark left by a removal whose in-memory side never ran (the gateway stopped in between) is replaced.
            await db.RemovedNodes.Where(r => r.Id == nodeId).ExecuteDeleteAsync(ct);
            db.RemovedNodes.Add(new RemovedNodeRecord { Id = nodeId, Name = known.Name, RemovedAt = now });
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            logger.LogInformation("Storage node {Name} ({Id}) removed with {Replicas} replica records", known.Name, nodeId, replicas);
        }
        // Marked before it leaves the registry, so a heartbeat that no longer finds it is told Removed, never Unknown.
        _removed[nodeId] = now;
        _nodes.TryRemove(nodeId, out _);
        _unverified.TryRemove(nodeId, out _);
        _draining.TryRemove(nodeId, out _);
    }

    public IReadOnlyList<NodeView> Snapshot()
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return _nodes.Values.Select(n => View(n, now)).OrderBy(n => n.Name, StringComparer.Ordinal).ToList();
    }

    public NodeView? Find(Guid id) =>
        _nodes.TryGetValue(id, out var record) ? View(record, clock.GetUtcNow().UtcDateTime) : null;

    /// <summary>
    /// Cancelled when the node stops heartbeating while others go on, or turns far slower than the others (<see
    /// cref="AbandonRequests"/>, <see cref="NodeSpeeds"/>): a request to it over a connection that was open before a
    /// partition gets no answer, and no error either, until its own time limit (a minute). Linking this in lets a store
    /// move to another node, and a read to another copy, as soon as the node turns suspect or slow.
    /// </summary>
    public CancellationToken Unreachable(Guid nodeId) => _unreachable.GetOrAdd(nodeId, _ => new CancellationTokenSource()).Token;

    /// <summary>Fails every request in flight to the node (see <see cref="Unreachable"/>); later requests get a fresh token.</summary>
    public void AbandonRequests(Guid nodeId)
    {
        // Not disposed: requests still hold links to it, and a source without a timer holds nothing to release.
        if (_unreachable.TryRemove(nodeId, out var source)) source.Cancel();
    }

    /// <summary>Lowers a node's free space right after a store, so placement spreads a burst of chunks before the next heartbeat.</summary>
    public void NoteStored(Guid nodeId, long bytes)
    {
        while (_nodes.TryGetValue(nodeId, out var known))
        {
            var updated = Copy(known);
            updated.FreeBytes = Math.Max(0, updated.FreeBytes - bytes);
            updated.UsedBytes += bytes;
            if (_nodes.TryUpdate(nodeId, updated, known)) return;
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
            !_unverified.ContainsKey(n.Id), _draining.TryGetValue(n.Id, out var since) ? since : null);
    }

    private static void Apply(NodeRecord record, NodeUsage usage, DateTime now)
    {
        record.CapacityBytes = usage.CapacityBytes;
        record.FreeBytes = usage.FreeBytes;
        record.UsedBytes = usage.UsedBytes;
        record.ChunkCount = usage.ChunkCount;
        record.LastHeartbeatAt = now;
    }

    /// <summary>What a newer registration (the metadata's) changes in a record whose heartbeat this gateway saw later.</summary>
    private static NodeRecord WithRegistration(NodeRecord known, NodeRecord row)
    {
        var merged = Copy(known);
        merged.Name = row.Name;
        merged.Url = row.Url;
        merged.RegisteredAt = row.RegisteredAt;
        return merged;
    }

    private static NodeRecord Copy(NodeRecord r) => new()
    {
        Id = r.Id, Name = r.Name, Url = r.Url, CapacityBytes = r.CapacityBytes, FreeBytes = r.FreeBytes,
        UsedBytes = r.UsedBytes, ChunkCount = r.ChunkCount, RegisteredAt = r.RegisteredAt, LastHeartbeatAt = r.LastHeartbeatAt,
    };
}
