using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Dfs.Gateway.Namespace;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Files;

/// <summary>Everything an upload learned before it commits: the whole file's digests and where each chunk went.</summary>
public sealed record UploadedFile(long Size, string Md5, string Sha256, long ChunkSize, int ReplicationFactor, IReadOnlyList<StoredChunk> Chunks,
    ObjectAttributes? Attributes = null);

/// <summary>
/// What a client keeps with an object besides its bytes (S3: Content-Type, x-amz-meta-*, Content-Disposition…; header names
/// lowercase) and, for a version assembled from a multipart upload, its S3 ETag.
/// </summary>
public sealed record ObjectAttributes(IReadOnlyDictionary<string, string> Headers, string? MultipartETag = null)
{
    public string? HeadersJson => Headers.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(Headers);

    public static IReadOnlyDictionary<string, string> ParseHeaders(string? json) =>
        string.IsNullOrEmpty(json)
            ? new Dictionary<string, string>()
            : System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(json) ?? new Dictionary<string, string>();
}

/// <param name="Inline">The chunk's bytes when they are kept in the metadata store instead of on <paramref name="Nodes"/>.</param>
public sealed record StoredChunk(int Index, string Id, long Offset, long Size, IReadOnlyList<Guid> Nodes, byte[]? Inline = null);

public sealed record CommittedFile(PutFileResult Result, Guid FileId);

/// <summary>
/// Makes an uploaded version visible in one transaction, after every chunk is stored. The conflict policy
/// decides what happens when the name is taken; racing uploads end in exactly that policy's outcome.
/// </summary>
public sealed class FileCommitter(NamespaceService names)
{
    public async Task<CommittedFile> CommitAsync(string path, ConflictPolicy policy, UploadedFile file, CancellationToken ct)
    {
        var db = names.Db;
        return await names.RetryAsync(names.NamespaceIsolation, async () =>
        {
            var parent = await names.EnsureDirectoryAsync(DfsPath.Parent(path), ct);
            var target = path;
            var renamed = false;
            // FOR UPDATE: two overwrites of one file take turns, so neither loses track of the version it replaces.
            var entry = await names.FindLockedAsync(target, forUpdate: true, ct);
            if (entry is not null)
            {
                if (entry.Kind == EntryKind.Directory)
                    throw DfsProblemException.Conflict($"'{path}' is a directory.");
                switch (policy)
                {
                    case ConflictPolicy.Fail:
                        throw DfsProblemException.Conflict($"'{path}' already exists (use conflict=overwrite or conflict=rename).");
                    case ConflictPolicy.Rename:
                        target = await FreeNameAsync(parent, path, ct);
                        renamed = true;
                        entry = null;
                        break;
                }
            }

            var now = names.Now;
            var number = 1;
            if (entry is null)
            {
                // Inside the transaction: uploads racing into the same home cannot pass the quota together.
                await Auth.Quotas.CheckAsync(db, target, file.Size, 0, ct);
                entry = names.NewEntry(parent, target, EntryKind.File);
                db.Entries.Add(entry);
            }
            else
            {
                // Overwrite: the new version replaces the old one; the old chunks become garbage unless shared.
                var previous = await db.Versions.FirstOrDefaultAsync(v => v.Id == entry.CurrentVersionId, ct);
                await Auth.Quotas.CheckAsync(db, target, file.Size, previous?.Size ?? 0, ct);
                number = (previous?.Number ?? 0) + 1;
                if (previous is not null)
                {
                    await db.VersionChunks.Where(c => c.VersionId == previous.Id).ExecuteDeleteAsync(ct);
                    await db.Versions.Where(v => v.Id == previous.Id).ExecuteDeleteAsync(ct);
                }
                entry.ModifiedAt = now;
                entry.Revision++;
            }

            var version = new FileVersionRecord
            {
                Id = Guid.CreateVersion7(),
                FileId = entry.Id,
                Number = number,
                Size = file.Size,
                Md5 = file.Md5,
                Sha256 = file.Sha256,
                ChunkSize = file.ChunkSize,
                ChunkCount = file.Chunks.Count,
                ReplicationFactor = file.ReplicationFactor,
                CreatedAt = now,
                ObjectHeaders = file.Attributes?.HeadersJson,
                MultipartETag = file.Attributes?.MultipartETag,
            };
            db.Versions.Add(version);
            entry.CurrentVersionId = version.Id;
            foreach (var chunk in file.Chunks)
                db.VersionChunks.Add(new VersionChunkRecord { VersionId = version.Id, Index = chunk.Index, ChunkId = chunk.Id, Offset = chunk.Offset, Size = chunk.Size });
            await AddChunksAndReplicasAsync(db, file.Chunks, now, ct);

            await db.SaveChangesAsync(ct);
            var result = new PutFileResult(target, file.Size, file.Md5, file.Sha256, number, file.Chunks.Count, file.ChunkSize, renamed, now);
            return new CommittedFile(result, entry.Id);
        }, ct);
    }

    /// <summary>Chunks are shared between versions (content addressing), so only the ones not yet known are inserted.</summary>
    internal static async Task AddChunksAndReplicasAsync(MetadataDbContext db, IReadOnlyList<StoredChunk> chunks, DateTime now, CancellationToken ct)
    {
        if (chunks.Count == 0) return;
        var ids = chunks.Select(c => c.Id).Distinct().ToList();
        var knownChunks = (await db.Chunks.Where(c => ids.Contains(c.Id)).Select(c => c.Id).ToListAsync(ct)).ToHashSet();
        // An inline file has no copies to record: one query fewer on the small-file path.
        var knownReplicas = chunks.Any(c => c.Nodes.Count > 0)
            ? (await db.Replicas.Where(r => ids.Contains(r.ChunkId)).Select(r => new { r.ChunkId, r.NodeId }).ToListAsync(ct))
                .Select(r => (r.ChunkId, r.NodeId)).ToHashSet()
            : [];
        foreach (var chunk in chunks.DistinctBy(c => c.Id))
        {
            if (knownChunks.Add(chunk.Id))
            {
                db.Chunks.Add(new ChunkRecord { Id = chunk.Id, Size = chunk.Size, CreatedAt = now });
                if (chunk.Inline is { } data) db.InlineChunks.Add(new InlineChunkRecord { ChunkId = chunk.Id, Data = data });
            }
            // A known chunk already has its bytes somewhere (inline or on nodes) and the upload's lease keeps it from collection.
            foreach (var node in chunk.Nodes)
                if (knownReplicas.Add((chunk.Id, node)))
                    db.Replicas.Add(new ReplicaRecord { ChunkId = chunk.Id, NodeId = node, CreatedAt = now });
        }
    }

    /// <summary>"name (1).ext", "name (2).ext", … : the first one free in the directory.</summary>
    private async Task<string> FreeNameAsync(EntryRecord? parent, string path, CancellationToken ct)
    {
        var name = DfsPath.Name(path);
        var dot = name.LastIndexOf('.');
        var (stem, extension) = dot > 0 ? (name[..dot], name[dot..]) : (name, "");
        var parentId = parent?.Id;
        var taken = (await names.Db.Entries.Where(e => e.ParentId == parentId && e.Name.StartsWith(stem))
            .Select(e => e.Name).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        for (var n = 1; ; n++)
        {
            var candidate = $"{stem} ({n}){extension}";
            if (!taken.Contains(candidate) && DfsPath.TryValidateSegment(candidate, out _))
                return DfsPath.Combine(DfsPath.Parent(path), candidate);
            if (n > 100_000) throw DfsProblemException.Conflict($"No free name near '{path}'.");
        }
    }
}
