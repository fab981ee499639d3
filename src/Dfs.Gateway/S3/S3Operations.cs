using System.Xml.Linq;
using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Files;
using Dfs.Gateway.Messaging;
using Dfs.Gateway.Namespace;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using static Dfs.Gateway.S3.S3Xml;

namespace Dfs.Gateway.S3;

/// <summary>
/// S3's operations over the Dfs namespace, with the caller's rights (<see cref="AccessControl"/>: their home, what was
/// shared with them; admins everything). The operation is chosen as S3 chooses it: method, then sub-resource query
/// parameters, then headers (x-amz-copy-source). Sub-resources Dfs has no equivalent for answer NotImplemented.
/// </summary>
public sealed partial class S3Operations(
    NamespaceService names,
    AccessControl access,
    UploadService uploads,
    DownloadService downloads,
    FileCommitter committer,
    IChunkLeases leases,
    ReadCache cache,
    EventPublisher events,
    IOptions<GatewayOptions> options)
{
    /// <summary>Sub-resources of buckets and objects that Dfs does not keep: refused by name rather than mistaken for a listing or a read.</summary>
    private static readonly string[] Unsupported =
        ["acl", "policy", "cors", "lifecycle", "tagging", "website", "replication", "encryption", "notification", "logging", "object-lock",
         "legal-hold", "retention", "torrent", "accelerate", "requestPayment", "analytics", "inventory", "metrics", "intelligent-tiering",
         "ownershipControls", "publicAccessBlock", "restore", "select", "attributes"];

    public Task DispatchAsync(HttpContext context, S3Target target)
    {
        var query = context.Request.Query;
        var method = context.Request.Method;
        if (target.Bucket is null)
            return HttpMethods.IsGet(method) ? ListBucketsAsync(context) : throw MethodNotAllowed();
        if (Unsupported.FirstOrDefault(query.ContainsKey) is { } sub)
            throw new S3Exception(StatusCodes.Status501NotImplemented, "NotImplemented", $"Dfs does not keep the '{sub}' sub-resource.");

        if (target.Key is null)
        {
            if (HttpMethods.IsGet(method))
            {
                if (query.ContainsKey("location")) return GetBucketLocationAsync(context, target);
                if (query.ContainsKey("versioning")) return GetBucketVersioningAsync(context, target);
                if (query.ContainsKey("uploads")) return ListMultipartUploadsAsync(context, target);
                return query["list-type"].ToString() == "2" ? ListObjectsAsync(context, target, v2: true) : ListObjectsAsync(context, target, v2: false);
            }
            if (HttpMethods.IsHead(method)) return HeadBucketAsync(context, target);
            if (HttpMethods.IsPut(method)) return CreateBucketAsync(context, target);
            if (HttpMethods.IsDelete(method)) return DeleteBucketAsync(context, target);
            if (HttpMethods.IsPost(method) && query.ContainsKey("delete")) return DeleteObjectsAsync(context, target);
            throw MethodNotAllowed();
        }

        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method))
            return query.ContainsKey("uploadId") ? ListPartsAsync(context, target) : GetObjectAsync(context, target);
        if (HttpMethods.IsPut(method))
        {
            if (query.ContainsKey("uploadId") || query.ContainsKey("partNumber")) return UploadPartAsync(context, target);
            return context.Request.Headers.ContainsKey("x-amz-copy-source") ? CopyObjectAsync(context, target) : PutObjectAsync(context, target);
        }
        if (HttpMethods.IsDelete(method))
            return query.ContainsKey("uploadId") ? AbortMultipartUploadAsync(context, target) : DeleteObjectAsync(context, target);
        if (HttpMethods.IsPost(method))
        {
            if (query.ContainsKey("uploads")) return CreateMultipartUploadAsync(context, target);
            if (query.ContainsKey("uploadId")) return CompleteMultipartUploadAsync(context, target);
        }
        throw MethodNotAllowed();
    }

    private static S3Exception MethodNotAllowed() =>
        new(StatusCodes.Status405MethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.");

    private static S3Exception NoSuchBucket(string bucket) =>
        new(StatusCodes.Status404NotFound, "NoSuchBucket", $"The specified bucket does not exist: {bucket}.");

    private static S3Exception NoSuchKey(string key) => new(StatusCodes.Status404NotFound, "NoSuchKey", $"The specified key does not exist: {key}.");

    private static Caller CallerOf(HttpContext context) => context.GetCaller();

    /// <summary>
    /// The bucket's folder, once the caller may see it: read access to it, or to something in it (a user's home in
    /// bucket "home"). Refused (403) before the folder is looked up, so a refusal never says whether a bucket exists.
    /// </summary>
    private async Task<Data.EntryRecord> RequireBucketAsync(HttpContext context, string bucket, CancellationToken ct)
    {
        var path = S3Keys.BucketPath(bucket);
        var caller = CallerOf(context);
        if (!await access.CanAsync(caller, path, Access.Read, ct) && await access.LeadingChildrenAsync(caller, path, ct) is null)
            throw S3Exception.AccessDenied();
        var entry = await names.FindAsync(path, ct);
        return entry is { Kind: EntryKind.Directory } ? entry : throw NoSuchBucket(bucket);
    }

    // ListBuckets: the top-level folders the caller can read or reach something in.
    private async Task ListBucketsAsync(HttpContext context)
    {
        var ct = context.RequestAborted;
        var caller = CallerOf(context);
        var visible = caller.IsAdmin ? null : await access.LeadingChildrenAsync(caller, DfsPath.Root, ct);
        var buckets = await names.Db.Entries.Where(e => e.ParentId == null && e.Kind == EntryKind.Directory)
            .OrderBy(e => e.Name).Select(e => new { e.Name, e.CreatedAt }).ToListAsync(ct);
        var shown = new List<XElement>();
        foreach (var b in buckets)
            if (caller.IsAdmin || visible?.Contains(b.Name) == true || await access.CanAsync(caller, "/" + b.Name, Access.Read, ct))
                shown.Add(E("Bucket", E("Name", b.Name), E("CreationDate", Time(b.CreatedAt))));
        await WriteAsync(context, E("ListAllMyBucketsResult",
            E("Owner", E("ID", caller.Id.ToString("N")), E("DisplayName", caller.Name)),
            E("Buckets", shown)));
    }

    private async Task HeadBucketAsync(HttpContext context, S3Target target)
    {
        await RequireBucketAsync(context, target.Bucket!, context.RequestAborted);
        context.Response.Headers["x-amz-bucket-region"] = "us-east-1";
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private async Task GetBucketLocationAsync(HttpContext context, S3Target target)
    {
        await RequireBucketAsync(context, target.Bucket!, context.RequestAborted);
        // us-east-1 is written as an empty LocationConstraint: what clients expect for the default region.
        await WriteAsync(context, E("LocationConstraint"));
    }

    private async Task GetBucketVersioningAsync(HttpContext context, S3Target target)
    {
        await RequireBucketAsync(context, target.Bucket!, context.RequestAborted);
        // Never enabled: an overwrite replaces the object (Dfs keeps one current version per file).
        await WriteAsync(context, E("VersioningConfiguration"));
    }

    private async Task CreateBucketAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var bucket = target.Bucket!;
        S3Keys.RequireValidNewBucketName(bucket);
        var path = S3Keys.BucketPath(bucket);
        await access.RequireAsync(CallerOf(context), path, Access.Write, ct);
        // The optional CreateBucketConfiguration names a region: any is accepted, there is one.
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
            await ReadXmlBodyAsync(context, 64 * 1024, ct);
        var (_, created) = await MkdirOrConflictAsync(path, ct);
        if (!created)
            throw new S3Exception(StatusCodes.Status409Conflict, "BucketAlreadyOwnedByYou",
                "Your previous request to create the named bucket succeeded and you already own it.");
        context.Response.Headers.Location = "/" + bucket;
        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    private async Task<(EntryInfo, bool)> MkdirOrConflictAsync(string path, CancellationToken ct)
    {
        var existing = await names.FindAsync(path, ct);
        if (existing is not null)
        {
            if (existing.Kind == EntryKind.Directory) return (NamespaceService.ToInfo(existing, null), false);
            throw new S3Exception(StatusCodes.Status409Conflict, "BucketAlreadyExists", $"'{path}' is a file, not a folder.");
        }
        return await names.MkdirAsync(path, parents: false, ct);
    }

    private async Task DeleteBucketAsync(HttpContext context, S3Target target)
    {
        var ct = context.RequestAborted;
        var path = S3Keys.BucketPath(target.Bucket!);
        await access.RequireAsync(CallerOf(context), path, Access.Write, ct);
        var entry = await names.FindAsync(path, ct);
        if (entry is not { Kind: EntryKind.Directory }) throw NoSuchBucket(target.Bucket!);
        if (await names.Db.Entries.AnyAsync(e => e.ParentId == entry.Id, ct))
            throw new S3Exception(StatusCodes.Status409Conflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.");
        try
        {
            await names.DeleteAsync(path, recursive: false, EntryKind.Directory, ct);
        }
        catch (Http.DfsProblemException e) when (e.Status == StatusCodes.Status409Conflict)
        {
            // Something was written into it meanwhile.
            throw new S3Exception(StatusCodes.Status409Conflict, "BucketNotEmpty", "The bucket you tried to delete is not empty.");
        }
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    /// <summary>The request's body as the object's bytes: aws-chunked decoded and every checksum the client sent verified.</summary>
    private static Stream S3Body(HttpContext context)
    {
        var signature = context.Items[typeof(S3Signature)] as S3Signature;
        return Signing.S3Payload.OpenBody(context.Request, signature?.Claim, signature?.SigningKey);
    }
}
