using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Security;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Http;
using Dfs.Gateway.Namespace;
using Dfs.Gateway.Nodes;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dfs.Gateway.Files;

public static class FileEndpoints
{
    public static RouteGroupBuilder MapFileEndpoints(this RouteGroupBuilder api)
    {
        var files = api.MapGroup("/files").WithTags("Files");

        files.MapPut("/{**path}", PutAsync)
            .WithName("PutFile")
            .WithSummary("Stores a file: the body is the bytes. Optional Content-MD5 / Repr-Digest are verified. durability=all answers only when every chunk has replication fsynced copies (pipeline replication).")
            .Produces<PutFileResult>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable)
            .ProducesProblem(StatusCodes.Status507InsufficientStorage);
        files.MapMethods("/{**path}", [HttpMethods.Get, HttpMethods.Head], GetAsync)
            .WithName("GetFile")
            .WithSummary("Reads a file, with Range, ETag (MD5) and Repr-Digest (SHA-256).")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .Produces(StatusCodes.Status206PartialContent, contentType: "application/octet-stream")
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status416RangeNotSatisfiable)
            .ProducesProblem(StatusCodes.Status502BadGateway);
        api.MapGet("/layout/{**path}", LayoutAsync)
            .WithTags("Files")
            .WithName("GetFileLayout")
            .WithSummary("A file's chunks with signed URLs to read each one straight from a node; the reader checks each chunk's SHA-256.")
            .Produces<FileLayout>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound);
        files.MapDelete("/{**path}", DeleteAsync)
            .WithName("DeleteFile")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    private static async Task<IResult> PutAsync(
        string? path, string? conflict, string? replication, string? durability, HttpContext context,
        UploadService uploads, NamespaceService names, AccessControl access, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Files, path);
        var policy = ParseConflict(conflict);
        var factor = ParseReplication(replication, options.Value.ReplicationFactor);
        var (md5, sha) = ReadClientDigests(context.Request);
        var result = (await StoreBodyAsync(context, new UploadRequest(target, policy, factor, md5, sha, context.Request.ContentLength, ParseDurability(durability)),
            uploads, names, access, ct)).Result;
        context.Response.Headers.ETag = Digests.ETag(result.Md5);
        context.Response.Headers[Digests.ReprDigestHeader] = Digests.ReprDigest(result.Sha256);
        return TypedResults.Created($"{ApiRoutes.Files}/{Contracts.Paths.DfsPath.ToUrlPath(result.Path)}", result);
    }

    /// <summary>
    /// Stores the request's body as <paramref name="request"/>'s file for the request's user: their write access, the
    /// conflict and quota checks that can be decided before a byte is read, then the streamed upload. The API's PUT,
    /// the console's upload and S3's PutObject all go through here, so they refuse the same things the same way
    /// (<paramref name="body"/>: the bytes when they are not the request's body as it came, e.g. S3's aws-chunked).
    /// </summary>
    internal static async Task<CommittedFile> StoreBodyAsync(HttpContext context, UploadRequest request,
        UploadService uploads, NamespaceService names, AccessControl access, CancellationToken ct, Stream? body = null)
    {
        var target = request.Path;
        var policy = request.Conflict;
        var caller = context.GetCaller();
        await access.RequireAsync(caller, target, Access.Write, ct);
        // A renamed file lands beside the target, which a share of the target alone does not cover.
        if (policy == ConflictPolicy.Rename && target != Contracts.Paths.DfsPath.Root)
            await access.RequireAsync(caller, Contracts.Paths.DfsPath.Parent(target), Access.Write, ct);
        if (target == Contracts.Paths.DfsPath.Root) throw DfsProblemException.Conflict("'/' is a directory.");

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            limit.MaxRequestBodySize = null; // files of any size stream through in chunks

        // Refuse before reading a byte when the outcome is already known.
        var existing = await names.FindAsync(target, ct);
        if (existing is not null && (existing.Kind == EntryKind.Directory || policy == ConflictPolicy.Fail))
            throw DfsProblemException.Conflict(existing.Kind == EntryKind.Directory
                ? $"'{target}' is a directory."
                : $"'{target}' already exists (use conflict=overwrite or conflict=rename).");
        if (request.DeclaredLength is { } length)
        {
            var replaced = policy == ConflictPolicy.Overwrite && existing?.CurrentVersionId is { } current
                ? await names.Db.Versions.Where(v => v.Id == current).Select(v => v.Size).FirstOrDefaultAsync(ct)
                : 0;
            await Quotas.CheckAsync(names.Db, target, length, replaced, ct);
        }

        return await uploads.UploadAsync(request, body ?? context.Request.Body, ct);
    }

    /// <summary>
    /// Access is decided here, as for a GET; the grants then let the caller read this version's chunks from the nodes for a
    /// few minutes, and nothing else.
    /// </summary>
    private static async Task<Ok<FileLayout>> LayoutAsync(string? path, HttpContext context, NamespaceService names, AccessControl access,
        ReadCache cache, NodeRegistry registry, ChunkReadGrant grants, IOptions<GatewayOptions> options, TimeProvider clock, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Layout, path);
        await access.RequireAsync(context.GetCaller(), target, Access.Read, ct);
        var (entry, found) = await names.FindWithVersionAsync(target, ct) ?? throw DfsProblemException.NotFound(target);
        if (entry.Kind == EntryKind.Directory)
            throw DfsProblemException.BadRequest("Not a file", $"'{target}' is a directory: list it with {ApiRoutes.List}.");
        var version = found ?? throw DfsProblemException.NotFound(target);
        var layout = await names.LoadLayoutAsync(version.Id, ct);
        cache.PutLayout(version.Id, layout);
        var expires = clock.GetUtcNow().AddSeconds(options.Value.DirectReadSeconds);
        var chunks = layout.Select(c => new ChunkSource(c.Index, c.ChunkId, c.Offset, c.Size,
            c.Holders.Select(registry.Find).OfType<NodeView>().Where(n => n.IsReadable).OrderBy(n => n.IsLive ? 0 : 1)
                .Select(n => new Uri(n.Url, $"chunks/{c.ChunkId}?{grants.Query(c.ChunkId, expires)}").ToString()).ToList(), c.Inline)).ToList();
        return TypedResults.Ok(new FileLayout(entry.Path, version.Number, version.Size, version.Md5, version.Sha256, expires.UtcDateTime, chunks));
    }

    private static async Task GetAsync(string? path, HttpContext context, NamespaceService names, AccessControl access, DownloadService downloads,
        ReadCache cache, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Files, path);
        await access.RequireAsync(context.GetCaller(), target, Access.Read, ct);
        var (entry, found) = await names.FindWithVersionAsync(target, ct) ?? throw DfsProblemException.NotFound(target);
        if (entry.Kind == EntryKind.Directory)
            throw DfsProblemException.BadRequest("Not a file", $"'{target}' is a directory: list it with {ApiRoutes.List}.");
        var version = found ?? throw DfsProblemException.NotFound(target);

        var response = context.Response;
        var etag = Digests.ETag(version.Md5);
        response.Headers.ETag = etag;
        response.Headers[Digests.ReprDigestHeader] = Digests.ReprDigest(version.Sha256);
        response.Headers[ApiRoutes.VersionHeader] = version.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers.AcceptRanges = "bytes";
        response.Headers.LastModified = entry.ModifiedAt.ToString("R");
        response.ContentType = "application/octet-stream";

        var request = context.Request.GetTypedHeaders();
        if (request.IfNoneMatch.Any(t => t.Tag == etag || t.Equals(EntityTagHeaderValue.Any)))
        {
            response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        var (from, to, partial) = ResolveRange(context.Request, version.Size);
        if (partial)
        {
            response.StatusCode = StatusCodes.Status206PartialContent;
            response.Headers.ContentRange = new ContentRangeHeaderValue(from, to, version.Size).ToString();
        }
        response.ContentLength = version.Size == 0 ? 0 : to - from + 1;
        if (HttpMethods.IsHead(context.Request.Method) || version.Size == 0) return;

        try
        {
            await WriteRangeAsync(version.Id, from, to, response.Body, names, cache, downloads, ct);
        }
        catch (DfsProblemException) when (response.HasStarted)
        {
            // Bytes already went out: cut the connection so the client sees a failed transfer, never wrong or missing bytes.
            context.Abort();
        }
    }

    /// <summary>
    /// Bytes <paramref name="from"/>..<paramref name="to"/> of a version to <paramref name="output"/>, its layout from the cache
    /// when there (reloaded from the metadata if a cached layout names copies that are gone).
    /// </summary>
    internal static async Task WriteRangeAsync(Guid versionId, long from, long to, Stream output, NamespaceService names, ReadCache cache,
        DownloadService downloads, CancellationToken ct)
    {
        var layout = cache.GetLayout(versionId);
        Func<CancellationToken, Task<IReadOnlyList<ChunkLayout>>>? reload = null;
        if (layout is null)
        {
            layout = await names.LoadLayoutAsync(versionId, ct);
            cache.PutLayout(versionId, layout);
        }
        else
        {
            reload = async token =>
            {
                var fresh = await names.LoadLayoutAsync(versionId, token);
                cache.PutLayout(versionId, fresh);
                return fresh;
            };
        }
        // A version deleted (or replaced and collected) between its lookup and this has no chunks left: say so, rather than
        // send nothing and end the answer short of its Content-Length.
        if (layout.Count == 0 || layout[0].Offset > from || layout[^1].Offset + layout[^1].Size <= to)
            throw new DfsProblemException(StatusCodes.Status409Conflict, "Changed while read",
                "The file was deleted or replaced while it was being read; nothing was sent. Read it again.");
        await downloads.CopyRangeAsync(layout, from, to, output, ct, reload);
    }

    private static async Task<IResult> DeleteAsync(string? path, HttpContext context, NamespaceService names, AccessControl access,
        Messaging.EventPublisher events, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Files, path);
        await access.RequireAsync(context.GetCaller(), target, Access.Write, ct);
        events.FilesDeleted(await names.DeleteAsync(target, recursive: false, expected: EntryKind.File, ct), names.Now);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// One byte range (RFC 9110 §14.1.2). Several ranges and units other than bytes are served whole, as RFC 9110
    /// allows (no multipart/byteranges); a bytes range that does not parse is refused rather than ignored, so a
    /// client never mistakes the whole file for the part it asked for. The raw header is read because the typed
    /// one is null both when the header is absent and when it is malformed.
    /// </summary>
    internal static (long From, long To, bool Partial) ResolveRange(HttpRequest request, long size)
    {
        var whole = (0L, size - 1, false);
        var header = request.Headers.Range;
        if (header.Count == 0) return whole;
        var value = header.ToString().Trim();
        var equals = value.IndexOf('=');
        var unit = (equals < 0 ? value : value[..equals]).Trim();
        if (!unit.Equals("bytes", StringComparison.OrdinalIgnoreCase)) return whole;

        var specs = equals < 0 ? [] : value[(equals + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (specs.Length == 0) throw InvalidRange(value);
        long? first = null, last = null;
        foreach (var spec in specs)
            if (!TryParseRangeSpec(spec, out first, out last)) throw InvalidRange(value);
        if (specs.Length > 1) return whole;

        if (first is null)
        {
            var suffix = last!.Value;
            if (suffix == 0) throw Unsatisfiable(size);
            // Nothing to cut a suffix from: the whole (empty) file, 200.
            if (size == 0) return whole;
            return (size - Math.Min(suffix, size), size - 1, true);
        }
        if (first.Value >= size) throw Unsatisfiable(size);
        return (first.Value, Math.Min(last ?? size - 1, size - 1), true);
    }

    /// <summary>first-last, first- or -suffix, in decimal digits; last below first is invalid (RFC 9110 §14.1.1).</summary>
    private static bool TryParseRangeSpec(string spec, out long? first, out long? last)
    {
        first = last = null;
        var dash = spec.IndexOf('-');
        if (dash < 0) return false;
        var from = spec.AsSpan(0, dash);
        var to = spec.AsSpan(dash + 1);
        if (from.IsEmpty)
        {
            if (!TryParseDigits(to, out var suffix)) return false;
            last = suffix;
            return true;
        }
        if (!TryParseDigits(from, out var f)) return false;
        first = f;
        if (to.IsEmpty) return true;
        if (!TryParseDigits(to, out var l) || l < f) return false;
        last = l;
        return true;
    }

    /// <summary>ASCII digits only (no sign, no spaces); a number beyond long saturates: it is past any end.</summary>
    private static bool TryParseDigits(ReadOnlySpan<char> digits, out long value)
    {
        value = 0;
        if (digits.IsEmpty) return false;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c)) return false;
            value = value > (long.MaxValue - (c - '0')) / 10 ? long.MaxValue : value * 10 + (c - '0');
        }
        return true;
    }

    private static DfsProblemException InvalidRange(string value) => DfsProblemException.BadRequest("Invalid Range",
        $"Range '{(value.Length > 100 ? value[..100] + "…" : value)}' is not a byte range: use bytes=first-last (first ≤ last), bytes=first- or bytes=-suffix.");

    private static DfsProblemException Unsatisfiable(long size) =>
        new(StatusCodes.Status416RangeNotSatisfiable, "Range not satisfiable", $"The file is {size} bytes long.");

    internal static ConflictPolicy ParseConflict(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "fail" => ConflictPolicy.Fail,
        "overwrite" => ConflictPolicy.Overwrite,
        "rename" => ConflictPolicy.Rename,
        _ => throw DfsProblemException.BadRequest("Invalid conflict policy", $"conflict must be fail, overwrite or rename, not '{value}'."),
    };

    private static Durability ParseDurability(string? value) => value?.ToLowerInvariant() switch
    {
        null or "" or "one" => Durability.One,
        "all" => Durability.All,
        _ => throw DfsProblemException.BadRequest("Invalid durability",
            $"durability must be one (answer once each chunk has one fsynced copy) or all (once it has as many as replication asks), not '{value}'."),
    };

    private static int ParseReplication(string? value, int fallback)
    {
        if (string.IsNullOrEmpty(value)) return fallback;
        return int.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= 16
            ? n
            : throw DfsProblemException.BadRequest("Invalid replication factor", $"replication must be a whole number from 1 to 16, not '{value}'.");
    }

    private static (string? Md5, string? Sha256) ReadClientDigests(HttpRequest request)
    {
        string? md5 = null, sha = null;
        if (request.Headers.TryGetValue(Digests.ContentMd5Header, out var md5Header))
            md5 = Digests.TryParseContentMd5(md5Header.ToString(), out var hex, out var error)
                ? hex : throw DfsProblemException.BadRequest("Invalid Content-MD5", error);
        if (request.Headers.TryGetValue(Digests.ReprDigestHeader, out var reprHeader))
            sha = Digests.TryParseReprDigestSha256(reprHeader.ToString(), out var hex, out var error)
                ? hex : throw DfsProblemException.BadRequest("Invalid Repr-Digest", error);
        return (md5, sha);
    }
}
