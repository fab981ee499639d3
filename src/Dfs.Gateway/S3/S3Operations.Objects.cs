using System.Globalization;
using System.Security.Cryptography;
using System.Xml.Linq;
using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Data;
using Dfs.Gateway.Files;
using Dfs.Gateway.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Net.Http.Headers;
using static Dfs.Gateway.S3.S3Xml;

namespace Dfs.Gateway.S3;

/// <summary>PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects and CopyObject.</summary>
public sealed partial class S3Operations
{
    /// <summary>S3's limit on the user metadata of one object (the x-amz-meta-* names and values).</summary>
    private const int MaxUserMetadataBytes = 2048;

    /// <summary>Headers kept with an object and sent back with it, besides the x-amz-meta-* ones.</summary>
    private static readonly string[] KeptHeaders = ["content-type", "content-disposition", "content-encoding", "content-language", "cache-control", "expires"];

    private async Task PutObjectAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var request = context.Request;
        var (path, isFolder) = S3Keys.ObjectPath(target.Bucket!, target.Key!);
        await access.RequireAsync(CallerOf(context), path, Access.Write, ct);
        await RequireBucketExistsAsync(target.Bucket!, ct);
        var body = S3Body(context);
        if (isFolder)
        {
            // A folder marker ("photos/"): the folder itself. It has no bytes to keep.
            if (await body.ReadAsync(new byte[1], ct) > 0)
                throw S3Exception.InvalidArgument($"'{target.Key}' ends in '/', which names a folder: a folder has no content.");
            await EnsureFolderAsync(path, ct);
            context.Response.Headers.ETag = Quoted(EmptyMd5);
            return;
        }

        var md5 = ContentMd5(request);
        var attributes = new ObjectAttributes(HeadersToKeep(request));
        var upload = new UploadRequest(path, ConflictPolicy.Overwrite, options.Value.ReplicationFactor, md5, null, DeclaredLength(request),
            Durability.One, attributes);
        var existing = await names.FindAsync(path, ct);
        if (existing is { Kind: EntryKind.Directory })
            throw new S3Exception(StatusCodes.Status409Conflict, "InvalidRequest",
                $"'{target.Key}' is a folder with objects in it ('{target.Key}/…'): an object cannot have the same name.");
        var committed = await FileEndpoints.StoreBodyAsync(context, upload, uploads, names, access, ct, body);
        context.Response.Headers.ETag = Quoted(committed.Result.Md5);
    }

    private async Task GetObjectAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var (path, isFolder) = S3Keys.ObjectPath(target.Bucket!, target.Key!);
        await access.RequireAsync(CallerOf(context), path, Access.Read, ct);
        var found = await names.FindWithVersionAsync(path, ct);
        var response = context.Response;
        if (found is not { } hit)
        {
            await RequireBucketExistsAsync(target.Bucket!, ct);
            throw NoSuchKey(target.Key!);
        }
        var (entry, version) = hit;
        if (isFolder)
        {
            if (entry.Kind != EntryKind.Directory) throw NoSuchKey(target.Key!);
            response.Headers.ETag = Quoted(EmptyMd5);
            response.Headers.LastModified = entry.ModifiedAt.ToString("R");
            response.ContentType = "application/x-directory";
            response.ContentLength = 0;
            return;
        }
        if (entry.Kind != EntryKind.File || version is null) throw NoSuchKey(target.Key!);

        var etag = Quoted(version.MultipartETag ?? version.Md5);
        var modified = entry.ModifiedAt;
        if (Preconditions(context.Request, etag, modified) is { } status)
        {
            response.StatusCode = status;
            if (status == StatusCodes.Status412PreconditionFailed)
                throw new S3Exception(status, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.");
            response.Headers.ETag = etag;
            return;
        }

        var headers = ObjectAttributes.ParseHeaders(version.ObjectHeaders);
        response.Headers.ETag = etag;
        response.Headers.LastModified = modified.ToString("R");
        response.Headers.AcceptRanges = "bytes";
        foreach (var (name, value) in headers) response.Headers[name] = value;
        if (!headers.ContainsKey("content-type")) response.ContentType = "binary/octet-stream";
        // Presigned GETs may ask for other response headers (a download name, a type).
        foreach (var (parameter, header) in ResponseOverrides)
            if (context.Request.Query.TryGetValue(parameter, out var value)) response.Headers[header] = value.ToString();

        var (from, to, partial) = FileEndpoints.ResolveRange(context.Request, version.Size);
        if (partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = new ContentRangeHeaderValue(from, to, version.Size).ToString();
        }
        else if (string.Equals(context.Request.Headers["x-amz-checksum-mode"], "ENABLED", StringComparison.OrdinalIgnoreCase))
        {
            response.Headers["x-amz-checksum-sha256"] = Convert.ToBase64String(Convert.FromHexString(version.Sha256));
        }
        response.ContentLength = version.Size == 0 ? 0 : to - from + 1;
        if (HttpMethods.IsHead(context.Request.Method) || version.Size == 0) return;
        await FileEndpoints.WriteRangeAsync(version.Id, from, to, response.Body, names, cache, downloads, ct);
    }

    private static readonly (string Parameter, string Header)[] ResponseOverrides =
    [
        ("response-content-type", "Content-Type"), ("response-content-language", "Content-Language"), ("response-expires", "Expires"),
        ("response-cache-control", "Cache-Control"), ("response-content-disposition", "Content-Disposition"),
        ("response-content-encoding", "Content-Encoding"),
    ];

    /// <summary>
    /// If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since in S3's order of precedence: null when the read goes
    /// ahead, else 412 or 304. Dates compare at whole seconds, the precision of HTTP dates.
    /// </summary>
    private static int? Preconditions(HttpRequest request, string etag, DateTime modified, string prefix = "")
    {
        var headers = request.Headers;
        var seconds = new DateTimeOffset(DateTime.SpecifyKind(modified, DateTimeKind.Utc)).ToUnixTimeSeconds();
        var ifMatch = headers[prefix + "If-Match"].ToString();
        var ifNoneMatch = headers[prefix + "If-None-Match"].ToString();
        var notModified = prefix.Length == 0 ? StatusCodes.Status304NotModified : StatusCodes.Status412PreconditionFailed;
        if (ifMatch.Length > 0)
        {
            if (!MatchesAny(ifMatch, etag)) return StatusCodes.Status412PreconditionFailed;
        }
        else if (Date(headers[prefix + "If-Unmodified-Since"]) is { } unmodifiedSince && seconds > unmodifiedSince)
            return StatusCodes.Status412PreconditionFailed;
        if (ifNoneMatch.Length > 0)
        {
            if (MatchesAny(ifNoneMatch, etag)) return notModified;
        }
        else if (Date(headers[prefix + "If-Modified-Since"]) is { } modifiedSince && seconds <= modifiedSince)
            return notModified;
        return null;
    }

    private static bool MatchesAny(string header, string etag) =>
        header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(t => t == "*" || t == etag || t.Trim('"') == etag.Trim('"'));

    private static long? Date(Microsoft.Extensions.Primitives.StringValues value) =>
        value.Count > 0 && DateTimeOffset.TryParse(value.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var date)
            ? date.ToUnixTimeSeconds()
            : null;

    private async Task DeleteObjectAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var (path, isFolder) = S3Keys.ObjectPath(target.Bucket!, target.Key!);
        await access.RequireAsync(CallerOf(context), path, Access.Write, ct);
        await RequireBucketExistsAsync(target.Bucket!, ct);
        await DeleteKeyAsync(path, isFolder, ct);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>
    /// Deletes what a key names, as S3 does: a missing key is no error. A folder key ("a/") deletes the folder when it is
    /// empty; a folder with objects in it stays (those objects are what keeps "a/" listed).
    /// </summary>
    private async Task DeleteKeyAsync(string path, bool isFolder, CancellationToken ct)
    {
        var entry = await names.FindAsync(path, ct);
        if (entry is null || (entry.Kind == EntryKind.Directory) != isFolder) return;
        if (isFolder && await names.Db.Entries.AnyAsync(e => e.ParentId == entry.Id, ct)) return;
        if (!await TryDeleteAsync(path, entry.Kind, ct)) return;
        await RemoveEmptiedFoldersAsync(path, ct);
    }

    private async Task<bool> TryDeleteAsync(string path, EntryKind kind, CancellationToken ct)
    {
        try
        {
            events.FilesDeleted(await names.DeleteAsync(path, recursive: false, kind, ct), names.Now);
            return true;
        }
        catch (DfsProblemException e) when (e.Status is StatusCodes.Status404NotFound or StatusCodes.Status409Conflict)
        {
            // Deleted meanwhile, or a folder that something was written into meanwhile: either way nothing of the key to remove.
            return false;
        }
    }

    /// <summary>
    /// S3 has no folders: the folders a key's "/"s made exist while keys are below them. So deleting the last key below a
    /// folder removes it, and so on upwards, as S3 tools expect (aws s3 rm --recursive, then rb). The bucket stays, and so
    /// does a folder that is more than a name: a user's home or a folder shared with someone.
    /// </summary>
    private async Task RemoveEmptiedFoldersAsync(string path, CancellationToken ct)
    {
        for (var folder = DfsPath.Parent(path); folder != DfsPath.Root && DfsPath.Parent(folder) != DfsPath.Root; folder = DfsPath.Parent(folder))
        {
            if (DfsPath.Parent(folder) == UserNames.HomeRoot) return;
            var entry = await names.FindAsync(folder, ct);
            if (entry is not { Kind: EntryKind.Directory }
                || await names.Db.Entries.AnyAsync(e => e.ParentId == entry.Id, ct)
                || await names.Db.Shares.AnyAsync(s => s.Path == folder, ct)
                || !await TryDeleteAsync(folder, EntryKind.Directory, ct))
                return;
        }
    }

    private async Task DeleteObjectsAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var bucket = target.Bucket!;
        await RequireBucketAsync(context, bucket, ct);
        var document = await ReadXmlBodyAsync(context, 2 * 1024 * 1024, ct);
        var root = document.Root is { Name.LocalName: "Delete" } r ? r : throw MalformedXml();
        var quiet = string.Equals(Child(root, "Quiet"), "true", StringComparison.OrdinalIgnoreCase);
        var keys = Children(root, "Object").Select(o => Child(o, "Key") ?? throw MalformedXml()).ToList();
        if (keys.Count is 0 or > 1000) throw MalformedXml();

        var results = new List<XElement>();
        var caller = CallerOf(context);
        foreach (var key in keys)
        {
            try
            {
                var (path, isFolder) = S3Keys.ObjectPath(bucket, key);
                if (!await access.CanAsync(caller, path, Access.Write, ct)) throw S3Exception.AccessDenied();
                await DeleteKeyAsync(path, isFolder, ct);
                if (!quiet) results.Add(E("Deleted", E("Key", key)));
            }
            catch (S3Exception e)
            {
                results.Add(E("Error", E("Key", key), E("Code", e.Code), E("Message", e.Message)));
            }
        }
        await WriteAsync(context, E("DeleteResult", results));
    }

    private async Task CopyObjectAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var request = context.Request;
        var (path, isFolder) = S3Keys.ObjectPath(target.Bucket!, target.Key!);
        if (isFolder) throw S3Exception.InvalidArgument("A folder key ('…/') cannot be the target of a copy.");
        var (sourceBucket, sourceKey) = CopySource(request.Headers["x-amz-copy-source"].ToString());
        var (sourcePath, sourceIsFolder) = S3Keys.ObjectPath(sourceBucket, sourceKey);
        if (sourceIsFolder) throw S3Exception.InvalidArgument("A folder key ('…/') cannot be copied.");
        var caller = CallerOf(context);
        await access.RequireAsync(caller, sourcePath, Access.Read, ct);
        await access.RequireAsync(caller, path, Access.Write, ct);
        await RequireBucketExistsAsync(target.Bucket!, ct);

        var directive = request.Headers["x-amz-metadata-directive"].ToString().ToUpperInvariant();
        if (directive is not ("" or "COPY" or "REPLACE")) throw S3Exception.InvalidArgument("x-amz-metadata-directive must be COPY or REPLACE.");
        if (sourcePath == path && directive != "REPLACE")
            throw S3Exception.InvalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.");

        if (await names.FindWithVersionAsync(sourcePath, ct) is not ({ Kind: EntryKind.File }, { } version))
        {
            await RequireBucketExistsAsync(sourceBucket, ct);
            throw NoSuchKey(sourceKey);
        }
        var sourceEntry = (await names.FindAsync(sourcePath, ct))!;
        if (Preconditions(request, Quoted(version.MultipartETag ?? version.Md5), sourceEntry.ModifiedAt, "x-amz-copy-source-") is not null)
            throw new S3Exception(StatusCodes.Status412PreconditionFailed, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.");

        var attributes = directive == "REPLACE"
            ? new ObjectAttributes(HeadersToKeep(request))
            : new ObjectAttributes(ObjectAttributes.ParseHeaders(version.ObjectHeaders));
        // The copy is a new version over the same chunks (content addressing): no byte moves. The leases keep garbage
        // collection off those chunks until the copy is committed, even if the source goes meanwhile.
        var layout = await names.LoadLayoutAsync(version.Id, ct);
        await using var held = leases.BeginUpload();
        var ids = layout.Select(c => c.ChunkId).Distinct(StringComparer.Ordinal).ToList();
        foreach (var id in ids) await held.HoldAsync(id, ct);
        if (await names.Db.Chunks.CountAsync(c => ids.Contains(c.Id), ct) != ids.Count)
            throw new S3Exception(StatusCodes.Status409Conflict, "OperationAborted", "The source object was deleted while it was copied: try again.");
        var chunks = layout.Select(c => new StoredChunk(c.Index, c.ChunkId, c.Offset, c.Size, [])).ToList();
        var committed = await committer.CommitAsync(path, ConflictPolicy.Overwrite,
            new UploadedFile(version.Size, version.Md5, version.Sha256, version.ChunkSize, version.ReplicationFactor, chunks, attributes), ct);
        await WriteAsync(context, E("CopyObjectResult",
            E("LastModified", Time(committed.Result.CreatedAt)), E("ETag", Quoted(committed.Result.Md5))));
    }

    /// <summary>x-amz-copy-source: "bucket/key" or "/bucket/key", percent-encoded; a versionId may follow ("current" is the only version).</summary>
    private static (string Bucket, string Key) CopySource(string header)
    {
        var value = header;
        var query = value.IndexOf('?');
        if (query >= 0) value = value[..query];
        string decoded;
        try { decoded = Uri.UnescapeDataString(value).TrimStart('/'); }
        catch (UriFormatException) { throw S3Exception.InvalidArgument("x-amz-copy-source is not valid percent-encoded UTF-8."); }
        var slash = decoded.IndexOf('/');
        if (slash <= 0 || slash == decoded.Length - 1) throw S3Exception.InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.");
        return (decoded[..slash], decoded[(slash + 1)..]);
    }

    private async Task RequireBucketExistsAsync(string bucket, CancellationToken ct)
    {
        if (await names.FindAsync(S3Keys.BucketPath(bucket), ct) is not { Kind: EntryKind.Directory }) throw NoSuchBucket(bucket);
    }

    private async Task EnsureFolderAsync(string path, CancellationToken ct)
    {
        var existing = await names.FindAsync(path, ct);
        if (existing is { Kind: EntryKind.Directory }) return;
        if (existing is not null)
            throw new S3Exception(StatusCodes.Status409Conflict, "InvalidRequest", $"'{path}' is an object: a folder cannot have the same name.");
        await names.MkdirAsync(path, parents: true, ct);
    }

    /// <summary>Content-MD5 (base64 of 16 bytes) as hex; the upload refuses to commit bytes that do not match it (BadDigest).</summary>
    private static string? ContentMd5(HttpRequest request)
    {
        if (!request.Headers.TryGetValue("Content-MD5", out var header)) return null;
        var bytes = new byte[16];
        return Convert.TryFromBase64String(header.ToString(), bytes, out var written) && written == 16
            ? Convert.ToHexStringLower(bytes)
            : throw S3Exception.InvalidDigest("The Content-MD5 you specified was invalid: it must be the base64 of the body's 16-byte MD5.");
    }

    /// <summary>The length of the object's bytes when the client declared it (aws-chunked: x-amz-decoded-content-length).</summary>
    private static long? DeclaredLength(HttpRequest request)
    {
        if (request.Headers.TryGetValue("x-amz-decoded-content-length", out var decoded))
            return long.TryParse(decoded.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n)
                ? n : throw S3Exception.InvalidArgument("x-amz-decoded-content-length must be a whole number.");
        var encoding = request.Headers.ContentEncoding.ToString();
        return encoding.Contains("aws-chunked", StringComparison.OrdinalIgnoreCase) ? null : request.ContentLength;
    }

    /// <summary>Content-Type and the other kept headers, and every x-amz-meta-* header (names lowercase, at most 2 KiB of them).</summary>
    private static Dictionary<string, string> HeadersToKeep(HttpRequest request)
    {
        var kept = new Dictionary<string, string>(StringComparer.Ordinal);
        var metadataBytes = 0;
        foreach (var (name, value) in request.Headers)
        {
            var lower = name.ToLowerInvariant();
            if (lower.StartsWith("x-amz-meta-", StringComparison.Ordinal))
            {
                metadataBytes += System.Text.Encoding.UTF8.GetByteCount(lower) - "x-amz-meta-".Length + System.Text.Encoding.UTF8.GetByteCount(value.ToString());
                kept[lower] = value.ToString();
            }
            else if (KeptHeaders.Contains(lower))
            {
                // aws-chunked is how the bytes travelled, not how they are stored.
                var text = lower == "content-encoding"
                    ? string.Join(',', value.ToString().Split(',', StringSplitOptions.TrimEntries).Where(e => !e.Equals("aws-chunked", StringComparison.OrdinalIgnoreCase)))
                    : value.ToString();
                if (text.Length > 0) kept[lower] = text;
            }
        }
        if (metadataBytes > MaxUserMetadataBytes)
            throw new S3Exception(StatusCodes.Status400BadRequest, "MetadataTooLarge",
                $"Your metadata headers exceed the maximum allowed metadata size ({MaxUserMetadataBytes} bytes).");
        return kept;
    }

    /// <summary>A small XML body, its Content-MD5 checked (S3 requires one on DeleteObjects; the SDKs send it or a checksum).</summary>
    private static async Task<XDocument> ReadXmlBodyAsync(HttpContext context, int limit, CancellationToken ct)
    {
        var md5 = ContentMd5(context.Request);
        using var buffer = new MemoryStream();
        var body = S3Body(context);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > limit) throw new S3Exception(StatusCodes.Status400BadRequest, "MaxMessageLengthExceeded", "Your request was too big.");
            buffer.Write(chunk, 0, read);
        }
        if (md5 is not null && Convert.ToHexStringLower(MD5.HashData(buffer.GetBuffer().AsSpan(0, (int)buffer.Length))) != md5)
            throw S3Exception.BadDigest("The Content-MD5 you specified did not match what we received.");
        buffer.Position = 0;
        return S3Xml.Parse(buffer);
    }

    private static S3Exception MalformedXml() =>
        new(StatusCodes.Status400BadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema.");
}
