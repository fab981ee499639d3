using System.Globalization;
using System.IO.Pipelines;
using System.Security.Cryptography;
using System.Xml.Linq;
using Dfs.Contracts.Api;
using Dfs.Contracts.Messages;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Files;
using Dfs.Gateway.Namespace;
using Dfs.Gateway.S3.Multipart;
using Microsoft.EntityFrameworkCore;
using static Dfs.Gateway.S3.S3Xml;

namespace Dfs.Gateway.S3;

/// <summary>
/// Multipart uploads. Each part streams into chunks on the nodes as it arrives (one copy, like a PUT before the
/// Replicator), recorded against the upload so garbage collection leaves them alone; completing makes one version of
/// the parts' chunks in order, no byte copied, after reading them back once for the object's MD5 and SHA-256. Its S3
/// ETag is S3's: the MD5 of the parts' MD5s, "-" and the number of parts. Aborting lets the chunks go.
/// </summary>
public sealed partial class S3Operations
{
    /// <summary>S3's limits: every part but the last at least 5 MiB, part numbers 1 to 10,000.</summary>
    private const long MinPartBytes = 5L * 1024 * 1024;
    private const int MaxPartNumber = 10_000;

    private static S3Exception NoSuchUpload() =>
        new(StatusCodes.Status404NotFound, "NoSuchUpload",
            "The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.");

    private async Task CreateMultipartUploadAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var (path, isFolder) = S3Keys.ObjectPath(target.Bucket!, target.Key!);
        if (isFolder) throw S3Exception.InvalidArgument("A folder key ('…/') cannot be uploaded in parts.");
        var caller = CallerOf(context);
        await access.RequireAsync(caller, path, Access.Write, ct);
        await RequireBucketExistsAsync(target.Bucket!, ct);
        var upload = new MultipartUploadRecord
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)),
            Path = path,
            UserId = caller.Id,
            CreatedAt = names.Now,
            ObjectHeaders = new ObjectAttributes(HeadersToKeep(context.Request)).HeadersJson,
        };
        names.Db.MultipartUploads.Add(upload);
        await names.Db.SaveChangesAsync(ct);
        await WriteAsync(context, E("InitiateMultipartUploadResult", E("Bucket", target.Bucket), E("Key", target.Key), E("UploadId", upload.Id)));
    }

    /// <summary>The upload named by ?uploadId, once the caller may write its object's path; NoSuchUpload unless it is this key's.</summary>
    private async Task<MultipartUploadRecord> RequireUploadAsync(HttpContext context, S3Target target, CancellationToken ct)
    {
        var (path, _) = S3Keys.ObjectPath(target.Bucket!, target.Key!);
        await access.RequireAsync(CallerOf(context), path, Access.Write, ct);
        var id = context.Request.Query["uploadId"].ToString();
        var upload = id.Length == 0 ? null : await names.Db.MultipartUploads.AsNoTracking().FirstOrDefaultAsync(u => u.Id == id, ct);
        return upload is not null && upload.Path == path ? upload : throw NoSuchUpload();
    }

    private async Task UploadPartAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var request = context.Request;
        if (!int.TryParse(request.Query["partNumber"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > MaxPartNumber)
            throw S3Exception.InvalidArgument($"Part number must be an integer between 1 and {MaxPartNumber}, inclusive.");
        var upload = await RequireUploadAsync(context, target, ct);
        if (request.Headers.ContainsKey("x-amz-copy-source"))
        {
            await UploadPartCopyAsync(context, upload, number);
            return;
        }
        var md5 = ContentMd5(request);

        await using var held = leases.BeginUpload();
        var stored = await uploads.StoreAsync(S3Body(context), DeclaredLength(request), copies: 1, allowInline: false, held, ct);
        if (md5 is not null && md5 != stored.Md5) throw S3Exception.BadDigest("The Content-MD5 you specified did not match what we received.");
        await RecordPartAsync(upload, number, stored, ct);
        context.Response.Headers.ETag = Quoted(stored.Md5);
    }

    /// <summary>
    /// UploadPartCopy: a part made of (a range of) an object the caller may read. The range streams from the nodes into
    /// the part's chunks as UploadPart's body would, never buffered whole; a range that starts on a chunk boundary of the
    /// source makes the same chunk ids, so the nodes gain no new bytes but the last chunk's.
    /// </summary>
    private async Task UploadPartCopyAsync(HttpContext context, MultipartUploadRecord upload, int number)
    {
        var ct = context.RequestAborted;
        var request = context.Request;
        var (sourceBucket, sourceKey) = CopySource(request.Headers["x-amz-copy-source"].ToString());
        var (sourcePath, sourceIsFolder) = S3Keys.ObjectPath(sourceBucket, sourceKey);
        if (sourceIsFolder) throw S3Exception.InvalidArgument("A folder key ('…/') cannot be copied.");
        await access.RequireAsync(CallerOf(context), sourcePath, Access.Read, ct);
        if (await names.FindWithVersionAsync(sourcePath, ct) is not ({ Kind: EntryKind.File } sourceEntry, { } version))
        {
            await RequireBucketExistsAsync(sourceBucket, ct);
            throw NoSuchKey(sourceKey);
        }
        if (Preconditions(request, Quoted(version.MultipartETag ?? version.Md5), sourceEntry.ModifiedAt, "x-amz-copy-source-") is not null)
            throw new S3Exception(StatusCodes.Status412PreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.");
        var (from, to) = CopySourceRange(request.Headers["x-amz-copy-source-range"].ToString(), version.Size);

        // Loaded here, not by the reading task: the store runs beside it on this request's database context.
        var layout = await names.LoadLayoutAsync(version.Id, ct);
        await using var held = leases.BeginUpload();
        var pipe = new Pipe();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        async Task ReadSourceAsync(CancellationToken token)
        {
            try
            {
                if (to >= from) await downloads.CopyRangeAsync(layout, from, to, pipe.Writer.AsStream(leaveOpen: true), token);
                await pipe.Writer.CompleteAsync();
            }
            catch (Exception e)
            {
                // The store sees it as its body failing: nothing is recorded.
                await pipe.Writer.CompleteAsync(e);
            }
        }
        var reading = ReadSourceAsync(stop.Token);
        StoredBytes stored;
        try
        {
            stored = await uploads.StoreAsync(pipe.Reader.AsStream(), to - from + 1, copies: 1, allowInline: false, held, ct);
        }
        finally
        {
            // Done reading, or the store failed: either way the source need not be read further.
            await stop.CancelAsync();
            await pipe.Reader.CompleteAsync();
            await reading;
        }
        await RecordPartAsync(upload, number, stored, ct);
        await WriteAsync(context, E("CopyPartResult", E("LastModified", Time(names.Now)), E("ETag", Quoted(stored.Md5))));
    }

    /// <summary>x-amz-copy-source-range: "bytes=FIRST-LAST" within the source; none is the whole source.</summary>
    private static (long From, long To) CopySourceRange(string header, long size)
    {
        if (header.Length == 0) return (0, size - 1);
        var dash = header.IndexOf('-');
        if (!header.StartsWith("bytes=", StringComparison.Ordinal) || dash < 0
            || !long.TryParse(header.AsSpan(6, dash - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var first)
            || !long.TryParse(header.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
            || first > last)
            throw S3Exception.InvalidArgument("The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy.");
        if (last >= size)
            throw S3Exception.InvalidArgument($"Range specified is not valid for source object of size: {size}");
        return (first, last);
    }

    /// <summary>Makes <paramref name="stored"/> part <paramref name="number"/> of the upload, in place of any part sent before under that number.</summary>
    private async Task RecordPartAsync(MultipartUploadRecord upload, int number, StoredBytes stored, CancellationToken ct)
    {
        var db = names.Db;
        await names.RetryAsync(names.NamespaceIsolation, async () =>
        {
            if (!await db.MultipartUploads.AnyAsync(u => u.Id == upload.Id, ct)) throw NoSuchUpload();
            // A part sent again replaces the one before (its chunks go to garbage unless shared).
            await db.MultipartPartChunks.Where(c => c.UploadId == upload.Id && c.PartNumber == number).ExecuteDeleteAsync(ct);
            await db.MultipartParts.Where(p => p.UploadId == upload.Id && p.PartNumber == number).ExecuteDeleteAsync(ct);
            db.MultipartParts.Add(new MultipartPartRecord { UploadId = upload.Id, PartNumber = number, Size = stored.Size, Md5 = stored.Md5, CreatedAt = names.Now });
            foreach (var chunk in stored.Chunks)
                db.MultipartPartChunks.Add(new MultipartPartChunkRecord
                {
                    UploadId = upload.Id, PartNumber = number, Index = chunk.Index, ChunkId = chunk.Id, Offset = chunk.Offset, Size = chunk.Size,
                });
            await FileCommitter.AddChunksAndReplicasAsync(db, stored.Chunks, names.Now, ct);
            await db.SaveChangesAsync(ct);
            return true;
        }, ct);
    }

    private async Task CompleteMultipartUploadAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var upload = await RequireUploadAsync(context, target, ct);
        var document = await ReadXmlBodyAsync(context, 2 * 1024 * 1024, ct);
        var root = document.Root is { Name.LocalName: "CompleteMultipartUpload" } r ? r : throw MalformedXml();
        var requested = Children(root, "Part").Select(p =>
            (Number: int.TryParse(Child(p, "PartNumber"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : throw MalformedXml(),
             ETag: (Child(p, "ETag") ?? throw MalformedXml()).Trim().Trim('"'))).ToList();
        if (requested.Count == 0) throw MalformedXml();
        for (var i = 1; i < requested.Count; i++)
            if (requested[i].Number <= requested[i - 1].Number)
                throw new S3Exception(StatusCodes.Status400BadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. The parts list must be specified in order by part number.");

        var db = names.Db;
        var parts = await db.MultipartParts.AsNoTracking().Where(p => p.UploadId == upload.Id).ToDictionaryAsync(p => p.PartNumber, ct);
        for (var i = 0; i < requested.Count; i++)
        {
            var (number, etag) = requested[i];
            if (!parts.TryGetValue(number, out var part) || !string.Equals(part.Md5, etag, StringComparison.OrdinalIgnoreCase))
                throw new S3Exception(StatusCodes.Status400BadRequest, "InvalidPart",
                    $"One or more of the specified parts could not be found: part {number} with ETag {etag}. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.");
            if (i < requested.Count - 1 && part.Size < MinPartBytes)
                throw new S3Exception(StatusCodes.Status400BadRequest, "EntityTooSmall", $"Your proposed upload is smaller than the minimum allowed object size: part {number} is {part.Size} bytes, every part but the last must be at least 5 MiB.");
        }

        var numbers = requested.Select(p => p.Number).ToList();
        var partChunks = (await db.MultipartPartChunks.AsNoTracking().Where(c => c.UploadId == upload.Id && numbers.Contains(c.PartNumber)).ToListAsync(ct))
            .OrderBy(c => c.PartNumber).ThenBy(c => c.Index).ToList();
        await using var held = leases.BeginUpload();
        var ids = partChunks.Select(c => c.ChunkId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var id in ids) await held.HoldAsync(id, ct);
        var holders = (await db.Replicas.AsNoTracking().Where(x => ids.Contains(x.ChunkId)).Select(x => new { x.ChunkId, x.NodeId }).ToListAsync(ct))
            .ToLookup(x => x.ChunkId, x => x.NodeId);
        var inline = await db.InlineChunks.AsNoTracking().Where(x => ids.Contains(x.ChunkId)).ToDictionaryAsync(x => x.ChunkId, x => x.Data, ct);

        var chunks = new List<StoredChunk>(partChunks.Count);
        var layout = new List<ChunkLayout>(partChunks.Count);
        long size = 0;
        foreach (var c in partChunks)
        {
            chunks.Add(new StoredChunk(chunks.Count, c.ChunkId, size, c.Size, []));
            layout.Add(new ChunkLayout(layout.Count, c.ChunkId, size, c.Size, [.. holders[c.ChunkId]], inline.GetValueOrDefault(c.ChunkId)));
            size += c.Size;
        }

        // The object's own digests, from its bytes as stored: each chunk is checked against its id on the way.
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        if (size > 0) await downloads.CopyRangeAsync(layout, 0, size - 1, new HashingStream(md5, sha), ct);
        var partsMd5 = MD5.HashData(requested.SelectMany(p => Convert.FromHexString(p.ETag)).ToArray());
        var multipartETag = $"{Convert.ToHexStringLower(partsMd5)}-{requested.Count}";
        var replication = options.Value.ReplicationFactor;
        var committed = await committer.CommitAsync(upload.Path, ConflictPolicy.Overwrite,
            new UploadedFile(size, Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha.GetHashAndReset()),
                options.Value.ChunkSizeBytes, replication, chunks, new ObjectAttributes(ObjectAttributes.ParseHeaders(upload.ObjectHeaders), multipartETag)), ct);
        await DeleteUploadAsync(upload.Id, ct);
        // The parts have one copy each: the Replicator makes the rest, as after a PUT.
        events.Enqueue(new FileStored(committed.FileId, committed.Result.Path, committed.Result.Version, replication,
            layout.Where(c => c.Inline is null).DistinctBy(c => c.ChunkId).Select(c => new StoredChunkHolders(c.ChunkId, c.Size, c.Holders)).ToList(),
            committed.Result.CreatedAt));
        await WriteAsync(context, E("CompleteMultipartUploadResult",
            E("Location", $"/{target.Bucket}/{target.Key}"), E("Bucket", target.Bucket), E("Key", target.Key), E("ETag", Quoted(multipartETag))));
    }

    private async Task AbortMultipartUploadAsync(HttpContext context, S3Target target)
    {
        var upload = await RequireUploadAsync(context, target, context.RequestAborted);
        await DeleteUploadAsync(upload.Id, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The upload's rows: its parts' chunks become garbage (unless shared), collected after the grace period.</summary>
    private async Task DeleteUploadAsync(string id, CancellationToken ct)
    {
        var db = names.Db;
        await db.MultipartPartChunks.Where(c => c.UploadId == id).ExecuteDeleteAsync(ct);
        await db.MultipartParts.Where(p => p.UploadId == id).ExecuteDeleteAsync(ct);
        await db.MultipartUploads.Where(u => u.Id == id).ExecuteDeleteAsync(ct);
    }

    private async Task ListPartsAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var upload = await RequireUploadAsync(context, target, ct);
        var query = context.Request.Query;
        var max = ParseLimit(query["max-parts"].ToString(), "max-parts");
        var marker = int.TryParse(query["part-number-marker"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : 0;
        var parts = await names.Db.MultipartParts.AsNoTracking().Where(p => p.UploadId == upload.Id && p.PartNumber > marker)
            .OrderBy(p => p.PartNumber).Take(max + 1).ToListAsync(ct);
        var truncated = parts.Count > max;
        if (truncated) parts.RemoveAt(parts.Count - 1);
        await WriteAsync(context, E("ListPartsResult",
            E("Bucket", target.Bucket), E("Key", target.Key), E("UploadId", upload.Id),
            E("PartNumberMarker", marker), E("NextPartNumberMarker", parts.Count > 0 ? parts[^1].PartNumber : marker),
            E("MaxParts", max), E("IsTruncated", truncated ? "true" : "false"), E("StorageClass", "STANDARD"),
            parts.Select(p => E("Part", E("PartNumber", p.PartNumber), E("LastModified", Time(p.CreatedAt)), E("ETag", Quoted(p.Md5)), E("Size", p.Size)))));
    }

    private async Task ListMultipartUploadsAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var bucket = target.Bucket!;
        await RequireBucketAsync(context, bucket, ct);
        var query = context.Request.Query;
        var prefix = query["prefix"].ToString();
        var keyMarker = query["key-marker"].ToString();
        var idMarker = query["upload-id-marker"].ToString();
        var max = ParseLimit(query["max-uploads"].ToString(), "max-uploads");
        var basePath = "/" + bucket + "/";
        var from = basePath + prefix;
        var after = keyMarker.Length > 0 ? basePath + keyMarker : null;
        var rows = names.Db.MultipartUploads.AsNoTracking().Where(u => u.Path.CompareTo(from) >= 0);
        if (after is not null)
            rows = idMarker.Length > 0
                ? rows.Where(u => u.Path.CompareTo(after) > 0 || (u.Path == after && u.Id.CompareTo(idMarker) > 0))
                : rows.Where(u => u.Path.CompareTo(after) > 0);
        var caller = CallerOf(context);
        var shown = new List<MultipartUploadRecord>();
        var truncated = false;
        foreach (var u in await rows.OrderBy(u => u.Path).ThenBy(u => u.Id).Take(10 * (max + 1)).ToListAsync(ct))
        {
            if (!u.Path.StartsWith(from, StringComparison.Ordinal)) break;
            if (!await access.CanAsync(caller, u.Path, Access.Write, ct)) continue;
            if (shown.Count == max) { truncated = true; break; }
            shown.Add(u);
        }
        await WriteAsync(context, E("ListMultipartUploadsResult",
            E("Bucket", bucket), E("KeyMarker", keyMarker), E("UploadIdMarker", idMarker),
            truncated ? E("NextKeyMarker", S3Keys.KeyOf("/" + bucket, shown[^1].Path)) : null,
            truncated ? E("NextUploadIdMarker", shown[^1].Id) : null,
            E("Prefix", prefix), E("MaxUploads", max), E("IsTruncated", truncated ? "true" : "false"),
            shown.Select(u => E("Upload", E("Key", S3Keys.KeyOf("/" + bucket, u.Path)), E("UploadId", u.Id),
                E("Initiated", Time(u.CreatedAt)), E("StorageClass", "STANDARD")))));
    }

    private static int ParseLimit(string value, string name)
    {
        if (value.Length == 0) return MaxKeys;
        return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n)
            ? Math.Clamp(n, 1, MaxKeys)
            : throw S3Exception.InvalidArgument($"{name} must be a whole number.");
    }

    /// <summary>Where the completed object's bytes are read to: they only pass through the hashes.</summary>
    private sealed class HashingStream(IncrementalHash md5, IncrementalHash sha) : Stream
    {
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            md5.AppendData(buffer);
            sha.AppendData(buffer);
        }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken ct = default)
        {
            Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            Write(buffer.AsSpan(offset, count));
            return Task.CompletedTask;
        }

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
