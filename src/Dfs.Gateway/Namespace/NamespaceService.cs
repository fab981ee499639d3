using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore.Metadata;
using System.Data;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Namespace;

/// <summary>
/// Directories and files as metadata: lookups, listing, mkdir, move and delete. Every mutation runs in one
/// transaction and is retried when it loses a race, so concurrent clients never see or leave a half-done
/// change (a moved directory with a child still under its old path, say).
/// </summary>
/// <remarks>
/// On PostgreSQL namespace changes run at READ COMMITTED with row locks rather than SERIALIZABLE: PUTs into one
/// folder all probe the same index pages for names that do not exist yet, and serializable snapshot isolation
/// aborted most of them (6.8 rollbacks per 4 KiB PUT at 16 clients, docs/benchmarks.md). The locks keep the same
/// guarantees: whatever adds or replaces an entry holds its parent directory FOR SHARE until it commits, and move
/// and delete take the entry FOR UPDATE and then its whole subtree (repeating until no new row appears,
/// see <see cref="FindSubtreeLockedAsync"/>), then read and write it in later statements, which at READ COMMITTED see every
/// child committed while they waited. Names stay unique through the unique indexes (a
/// violation is retried and then answered by the conflict policy). SQLite runs one writer at a time anyway.
/// </remarks>
public sealed class NamespaceService(MetadataDbContext db, NodeRegistry nodes, TimeProvider clock)
{
    private const int MaxAttempts = 40;

    internal MetadataDbContext Db => db;
    internal DateTime Now => clock.GetUtcNow().UtcDateTime;

    // The read path's queries, compiled once per model (one per database provider): EF otherwise re-walks each LINQ
    // tree on every request to find its parameters and its cached plan, which cost more gateway CPU than the
    // database's answer (docs/benchmarks.md).
    private static readonly ConditionalWeakTable<IModel, CompiledReads> Compiled = new();

    private CompiledReads Reads => Compiled.GetValue(db.Model, static _ => new CompiledReads());

    public Task<EntryRecord?> FindAsync(string path, CancellationToken ct) => Reads.Find(db, path, ct);

    public async Task<EntryInfo> StatEntryAsync(string path, CancellationToken ct)
    {
        if (path == DfsPath.Root) return RootInfo();
        var row = await (from e in db.Entries
                         where e.Path == path
                         join v in db.Versions on e.CurrentVersionId equals v.Id into vs
                         from v in vs.DefaultIfEmpty()
                         select new { e, v }).FirstOrDefaultAsync(ct)
                  ?? throw DfsProblemException.NotFound(path);
        return ToInfo(row.e, row.v);
    }

    public async Task<EntryDetails> StatAsync(string path, CancellationToken ct)
    {
        if (path == DfsPath.Root)
            return new EntryDetails(DfsPath.Root, "", EntryKind.Directory, 0, DateTime.UnixEpoch, DateTime.UnixEpoch, null, null, null, null, []);
        var entry = await FindAsync(path, ct) ?? throw DfsProblemException.NotFound(path);
        if (entry.Kind == EntryKind.Directory || entry.CurrentVersionId is null)
            return new EntryDetails(entry.Path, entry.Name, entry.Kind, 0, entry.CreatedAt, entry.ModifiedAt, null, null, null, null, []);

        var version = await db.Versions.FirstAsync(v => v.Id == entry.CurrentVersionId, ct);
        var layout = await LoadLayoutAsync(version.Id, ct);
        var chunks = layout.Select(c => new ChunkInfo(c.Index, c.ChunkId, c.Offset, c.Size,
            c.Holders.Select(id => nodes.Find(id) is { } n
                    ? new ReplicaInfo(n.Id, n.Name, n.Url.ToString(), n.State)
                    : new ReplicaInfo(id, "(unknown)", "", NodeStates.Dead))
                .ToList(), c.Inline is not null)).ToList();
        return new EntryDetails(entry.Path, entry.Name, entry.Kind, version.Size, entry.CreatedAt, entry.ModifiedAt,
            version.Number, version.Md5, version.Sha256, version.ChunkSize, chunks);
    }

    /// <summary>An entry and its current version (null for a directory) in one round trip: the read path's lookup.</summary>
    public async Task<(EntryRecord Entry, FileVersionRecord? Version)?> FindWithVersionAsync(string path, CancellationToken ct) =>
        await Reads.FindWithVersion(db, path, ct) is { } row ? (row.Entry, row.Version) : null;

    /// <summary>A version's chunks in order, with the nodes that hold each one (oldest copy first), in one query.</summary>
    public async Task<IReadOnlyList<ChunkLayout>> LoadLayoutAsync(Guid versionId, CancellationToken ct)
    {
        var layout = new List<ChunkLayout>();
        List<Guid>? holders = null;
        await foreach (var row in Reads.Layout(db, versionId).WithCancellation(ct))
        {
            if (layout.Count == 0 || layout[^1].Index != row.Index)
            {
                holders = [];
                layout.Add(new ChunkLayout(row.Index, row.ChunkId, row.Offset, row.Size, holders, row.Inline));
            }
            if (row.NodeId is { } node) holders!.Add(node);
        }
        return layout;
    }

    /// <param name="onlyNames">When set, only the children with these names (a listing filtered to what the caller may see).</param>
    public async Task<ListingPage> ListAsync(string path, string? cursor, int limit, CancellationToken ct, IReadOnlyCollection<string>? onlyNames = null)
    {
        Guid? parentId = null;
        if (path != DfsPath.Root)
        {
            var entry = await FindAsync(path, ct) ?? throw DfsProblemException.NotFound(path);
            if (entry.Kind == EntryKind.File)
            {
                var info = await StatEntryAsync(path, ct);
                return new ListingPage(path, [info], null);
            }
            parentId = entry.Id;
        }

        var after = DecodeCursor(cursor);
        var query = from e in db.Entries
                    where e.ParentId == parentId
                    select e;
        if (after is not null) query = query.Where(e => e.Name.CompareTo(after) > 0);
        if (onlyNames is not null)
        {
            var names = onlyNames.ToList();
            query = query.Where(e => names.Contains(e.Name));
        }
        // The page from the (parent, name) index, then its versions by primary key, each reading only the columns a listing
        // shows. Joined in one statement, PostgreSQL spent 18 ms of CPU on each 1,000-entry page of a 100,000-entry folder;
        // apart, 4 ms. Names sort in byte order in both databases (collation "C", SQLite's binary), as the cursor compares.
        var rows = await query.OrderBy(e => e.Name).Take(limit + 1)
            .Select(e => new { e.Path, e.Name, e.Kind, e.ModifiedAt, e.CurrentVersionId }).ToListAsync(ct);
        var versionIds = rows.Where(e => e.CurrentVersionId is not null).Select(e => e.CurrentVersionId!.Value).ToList();
        var versions = versionIds.Count == 0
            ? []
            : await db.Versions.Where(v => versionIds.Contains(v.Id))
                .Select(v => new { v.Id, v.Size, v.Number, v.Md5, v.Sha256 }).ToDictionaryAsync(v => v.Id, ct);
        var page = new List<EntryInfo>(Math.Min(rows.Count, limit));
        foreach (var e in rows.Take(limit))
        {
            var v = e.CurrentVersionId is { } id ? versions.GetValueOrDefault(id) : null;
            page.Add(new EntryInfo(e.Path, e.Name, e.Kind, v?.Size ?? 0, e.ModifiedAt, v?.Number, v?.Md5, v?.Sha256));
        }
        var next = rows.Count > limit ? EncodeCursor(page[^1].Name) : null;
        return new ListingPage(path, page, next);
    }

    public async Task<(EntryInfo Entry, bool Created)> MkdirAsync(string path, bool parents, CancellationToken ct)
    {
        if (path == DfsPath.Root) return (RootInfo(), false);
        return await RetryAsync(NamespaceIsolation, async () =>
        {
            var existing = await FindAsync(path, ct);
            if (existing is not null)
            {
                if (existing.Kind == EntryKind.Directory && parents) return (ToInfo(existing, null), false);
                throw DfsProblemException.Conflict($"'{path}' already exists.");
            }
            var parent = parents
                ? await EnsureDirectoryAsync(DfsPath.Parent(path), ct)
                : await RequireDirectoryAsync(DfsPath.Parent(path), ct);
            var entry = NewEntry(parent, path, EntryKind.Directory);
            db.Entries.Add(entry);
            await db.SaveChangesAsync(ct);
            return (ToInfo(entry, null), true);
        }, ct);
    }

    public async Task<EntryInfo> MoveAsync(string from, string to, CancellationToken ct)
    {
        if (from == DfsPath.Root) throw DfsProblemException.BadRequest("Invalid move", "The root cannot be moved.");
        if (to == DfsPath.Root) throw DfsProblemException.Conflict("'/' already exists.");
        if (DfsPath.IsSameOrBelow(to, from))
            throw DfsProblemException.BadRequest("Invalid move", $"Cannot move '{from}' into itself ('{to}').");

        return await RetryAsync(NamespaceIsolation, async () =>
        {
            var entry = await FindSubtreeLockedAsync(from, ct) ?? throw DfsProblemException.NotFound(from);
            if (await db.Entries.AnyAsync(e => e.Path == to, ct))
                throw DfsProblemException.Conflict($"'{to}' already exists.");
            var parent = await RequireDirectoryAsync(DfsPath.Parent(to), ct);

            entry.ParentId = parent?.Id;
            entry.Name = DfsPath.Name(to);
            entry.Path = to;
            entry.ModifiedAt = Now;
            entry.Revision++;
            await db.SaveChangesAsync(ct);

            if (entry.Kind == EntryKind.Directory)
            {
                var prefix = from + "/";
                var cut = from.Length;
                await db.Entries.Where(e => e.Path.StartsWith(prefix))
                    .ExecuteUpdateAsync(s => s
                        .SetProperty(e => e.Path, e => to + e.Path.Substring(cut))
                        .SetProperty(e => e.Revision, e => e.Revision + 1), ct);
            }
            var version = entry.CurrentVersionId is { } vid ? await db.Versions.FirstOrDefaultAsync(v => v.Id == vid, ct) : null;
            return ToInfo(entry, version);
        }, ct);
    }

    /// <summary>
    /// Deletes a file, or a directory (recursive, or empty), and returns the files that went with it.
    /// Chunks stay until garbage collection finds them unreferenced.
    /// </summary>
    public async Task<IReadOnlyList<DeletedFile>> DeleteAsync(string path, bool recursive, EntryKind? expected, CancellationToken ct)
    {
        if (path == DfsPath.Root) throw DfsProblemException.BadRequest("Invalid delete", "The root cannot be deleted.");
        return await RetryAsync(NamespaceIsolation, async () =>
        {
            var entry = await FindSubtreeLockedAsync(path, ct) ?? throw DfsProblemException.NotFound(path);
            if (expected is { } kind && entry.Kind != kind)
                throw DfsProblemException.Conflict($"'{path}' is a {entry.Kind.ToString().ToLowerInvariant()}.");

            var prefix = path + "/";
            if (entry.Kind == EntryKind.Directory && !recursive && await db.Entries.AnyAsync(e => e.ParentId == entry.Id, ct))
                throw DfsProblemException.Conflict($"Directory '{path}' is not empty (delete it recursively).");

            var doomed = db.Entries.Where(e => e.Id == entry.Id || e.Path.StartsWith(prefix));
            var versions = db.Versions.Where(v => doomed.Any(e => e.Id == v.FileId));
            var files = await (from e in doomed
                               where e.Kind == EntryKind.File
                               join v in db.Versions on e.CurrentVersionId equals v.Id into vs
                               from v in vs.DefaultIfEmpty()
                               select new { e.Id, e.Path, VersionId = (Guid?)v.Id }).ToListAsync(ct);
            var versionIds = files.Where(f => f.VersionId is not null).Select(f => f.VersionId!.Value).ToList();
            var chunks = (await db.VersionChunks.Where(c => versionIds.Contains(c.VersionId)).Select(c => new { c.VersionId, c.ChunkId }).ToListAsync(ct))
                .ToLookup(c => c.VersionId, c => c.ChunkId);

            await db.VersionChunks.Where(c => versions.Any(v => v.Id == c.VersionId)).ExecuteDeleteAsync(ct);
            await versions.ExecuteDeleteAsync(ct);
            await doomed.ExecuteDeleteAsync(ct);
            return files.Select(f => new DeletedFile(f.Id, f.Path, f.VersionId is { } vid ? chunks[vid].Distinct().ToList() : [])).ToList();
        }, ct);
    }

    /// <summary>Runs a unit of work in a serializable transaction, retrying when it loses a race to another writer.</summary>
    internal Task<T> RetryAsync<T>(Func<Task<T>> work, CancellationToken ct) => RetryAsync(IsolationLevel.Serializable, work, ct);

    /// <summary>
    /// What namespace changes run at: READ COMMITTED with the row locks of <see cref="FindLockedAsync"/> and
    /// <see cref="LockSubtreeAsync"/> on PostgreSQL (see the remarks on this class).
    /// </summary>
    internal IsolationLevel NamespaceIsolation => db.Database.IsNpgsql() ? IsolationLevel.ReadCommitted : IsolationLevel.Serializable;

    /// <summary>Runs a unit of work in a transaction, retrying when it loses a race to another writer.</summary>
    internal async Task<T> RetryAsync<T>(IsolationLevel isolation, Func<Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            db.ChangeTracker.Clear();
            try
            {
                // Disposing an uncommitted transaction rolls it back; a failed COMMIT has already ended it.
                await using var tx = await db.Database.BeginTransactionAsync(isolation, ct);
                var result = await work();
                await tx.CommitAsync(ct);
                return result;
            }
            catch (Exception e) when (attempt < MaxAttempts && DbErrors.IsRetryable(e))
            {
            }
            await Task.Delay(Random.Shared.Next(1, 5 + 5 * Math.Min(attempt, 20)), ct);
        }
    }

    /// <summary>
    /// The entry at <paramref name="path"/>, tracked and locked until the transaction ends: FOR SHARE (nobody moves or
    /// deletes it meanwhile) or FOR UPDATE (nobody else replaces it either). On SQLite, a plain tracked read.
    /// </summary>
    internal Task<EntryRecord?> FindLockedAsync(string path, bool forUpdate, CancellationToken ct)
    {
        if (!db.Database.IsNpgsql()) return db.Entries.AsTracking().FirstOrDefaultAsync(e => e.Path == path, ct);
        var rows = forUpdate
            ? db.Entries.FromSql($"SELECT * FROM entries WHERE \"Path\" = {path} FOR UPDATE")
            : db.Entries.FromSql($"SELECT * FROM entries WHERE \"Path\" = {path} FOR SHARE");
        return rows.AsTracking().FirstOrDefaultAsync(ct);
    }

    /// <summary>
    /// The entry at <paramref name="path"/> with it and everything below it locked FOR UPDATE (on SQLite, one writer
    /// at a time anyway, a tracked read). The entry is locked first: looked up after the subtree lock, an entry committed
    /// in between would be moved or deleted without any of its subtree locked.
    /// </summary>
    internal async Task<EntryRecord?> FindSubtreeLockedAsync(string path, CancellationToken ct)
    {
        var entry = await FindLockedAsync(path, forUpdate: true, ct);
        if (entry is not null) await LockSubtreeAsync(path, ct);
        return entry;
    }

    /// <summary>Locks <paramref name="path"/> and everything below it FOR UPDATE (PostgreSQL; SQLite has one writer).</summary>
    /// <remarks>
    /// One statement is not enough: it locks the rows of the snapshot it took before waiting, and a writer it waited
    /// for may have committed a new folder that a second writer entered (FOR SHARE) before the move reached it; that
    /// second writer's child would then escape the move's later UPDATE. So the lock is taken again, each time with a
    /// fresh snapshot, until it finds no row it had not locked: rows already locked cannot leave, so an unchanged
    /// count means an unchanged set, and every writer inside it has committed or now waits for this transaction.
    /// </remarks>
    private async Task LockSubtreeAsync(string path, CancellationToken ct)
    {
        if (!db.Database.IsNpgsql()) return;
        var prefix = path + "/";
        for (var locked = -1; ;)
        {
            var count = await db.Database.SqlQuery<int>(
                $"SELECT count(*)::int AS \"Value\" FROM (SELECT 1 FROM entries WHERE \"Path\" = {path} OR left(\"Path\", {prefix.Length}) = {prefix} FOR UPDATE) AS subtree")
                .SingleAsync(ct);
            if (count == locked) return;
            locked = count;
        }
    }

    /// <summary>
    /// The directory at <paramref name="path"/>, locked FOR SHARE, creating it and its ancestors when missing (null
    /// for the root).
    /// </summary>
    internal async Task<EntryRecord?> EnsureDirectoryAsync(string path, CancellationToken ct)
    {
        if (path == DfsPath.Root) return null;
        var existing = await FindLockedAsync(path, forUpdate: false, ct);
        if (existing is not null)
            return existing.Kind == EntryKind.Directory ? existing : throw DfsProblemException.Conflict($"'{path}' is a file, not a directory.");
        var parent = await EnsureDirectoryAsync(DfsPath.Parent(path), ct);
        var created = NewEntry(parent, path, EntryKind.Directory);
        db.Entries.Add(created);
        await db.SaveChangesAsync(ct);
        return created;
    }

    private async Task<EntryRecord?> RequireDirectoryAsync(string path, CancellationToken ct)
    {
        if (path == DfsPath.Root) return null;
        var existing = await FindLockedAsync(path, forUpdate: false, ct)
                       ?? throw DfsProblemException.NotFound(path);
        return existing.Kind == EntryKind.Directory ? existing : throw DfsProblemException.Conflict($"'{path}' is a file, not a directory.");
    }

    internal EntryRecord NewEntry(EntryRecord? parent, string path, EntryKind kind) => new()
    {
        Id = Guid.CreateVersion7(),
        ParentId = parent?.Id,
        Name = DfsPath.Name(path),
        Path = path,
        Kind = kind,
        CreatedAt = Now,
        ModifiedAt = Now,
    };

    internal static EntryInfo ToInfo(EntryRecord e, FileVersionRecord? v) =>
        new(e.Path, e.Name, e.Kind, v?.Size ?? 0, e.ModifiedAt, v?.Number, v?.Md5, v?.Sha256);

    private static EntryInfo RootInfo() => new(DfsPath.Root, "", EntryKind.Directory, 0, DateTime.UnixEpoch);

    private static string EncodeCursor(string name) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(name)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static string? DecodeCursor(string? cursor)
    {
        if (string.IsNullOrEmpty(cursor)) return null;
        try
        {
            var b64 = cursor.Replace('-', '+').Replace('_', '/');
            b64 = b64.PadRight(b64.Length + (4 - b64.Length % 4) % 4, '=');
            return new UTF8Encoding(false, true).GetString(Convert.FromBase64String(b64));
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw DfsProblemException.BadRequest("Invalid cursor", "The cursor is not one this gateway returned.");
        }
    }
}

/// <summary>The compiled read queries of <see cref="NamespaceService"/>; a compiled query serves one model only.</summary>
internal sealed class CompiledReads
{
    public readonly Func<MetadataDbContext, string, CancellationToken, Task<EntryRecord?>> Find =
        EF.CompileAsyncQuery((MetadataDbContext db, string path, CancellationToken ct) =>
            db.Entries.FirstOrDefault(e => e.Path == path));

    public readonly Func<MetadataDbContext, string, CancellationToken, Task<EntryWithVersion?>> FindWithVersion =
        EF.CompileAsyncQuery((MetadataDbContext db, string path, CancellationToken ct) =>
            (from e in db.Entries
             where e.Path == path
             join v in db.Versions on e.CurrentVersionId equals v.Id into vs
             from v in vs.DefaultIfEmpty()
             select new EntryWithVersion(e, v)).FirstOrDefault());

    public readonly Func<MetadataDbContext, Guid, IAsyncEnumerable<LayoutRow>> Layout =
        EF.CompileAsyncQuery((MetadataDbContext db, Guid versionId) =>
            from c in db.VersionChunks
            where c.VersionId == versionId
            join r in db.Replicas on c.ChunkId equals r.ChunkId into rs
            from r in rs.DefaultIfEmpty()
            join i in db.InlineChunks on c.ChunkId equals i.ChunkId into inline
            from i in inline.DefaultIfEmpty()
            orderby c.Index, r.CreatedAt
            select new LayoutRow(c.Index, c.ChunkId, c.Offset, c.Size, (Guid?)r.NodeId, i.Data));
}

public sealed record EntryWithVersion(EntryRecord Entry, FileVersionRecord? Version);

public sealed record LayoutRow(int Index, string ChunkId, long Offset, long Size, Guid? NodeId, byte[]? Inline);

public sealed record DeletedFile(Guid FileId, string Path, IReadOnlyList<string> ChunkIds);

/// <param name="Inline">The chunk's bytes when the metadata store keeps them (small files): read with the layout, no node asked.</param>
public sealed record ChunkLayout(int Index, string ChunkId, long Offset, long Size, IReadOnlyList<Guid> Holders, byte[]? Inline = null);
