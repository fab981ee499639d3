using System.Globalization;
using System.Text;
using System.Xml.Linq;
using Dfs.Contracts.Api;
using Dfs.Contracts.Paths;
using Microsoft.EntityFrameworkCore;
using static Dfs.Gateway.S3.S3Xml;

namespace Dfs.Gateway.S3;

/// <summary>
/// ListObjectsV2 and ListObjects (v1). Keys come in byte order of their UTF-8, as on S3, from the path index. With the
/// delimiter "/" a listing reads the children of one folder (its folders are the common prefixes); with any other
/// delimiter, or none, it walks the paths below the prefix, jumping past each common prefix. Empty folders are listed
/// as "folder/" keys. One difference from S3: an empty folder "a" is listed where "a" sorts, which is before keys such as
/// "a.txt" that S3 would put before "a/".
/// </summary>
public sealed partial class S3Operations
{
    private const int MaxKeys = 1000;

    private sealed record ListedObject(string Key, long Size, DateTime Modified, string ETag);

    private sealed record Listing(List<ListedObject> Contents, List<string> CommonPrefixes, bool Truncated, string? NextToken);

    /// <summary>Where a page resumes: after (or at) a folder child's name, or after (or at) a path.</summary>
    private sealed record Resume(string Value, bool Inclusive);

    private async Task ListObjectsAsync(HttpContext context, S3Target target, bool v2)
    {
        var ct = context.RequestAborted;
        var query = context.Request.Query;
        var bucket = target.Bucket!;
        await RequireBucketAsync(context, bucket, ct);
        var prefix = query["prefix"].ToString();
        var delimiter = query["delimiter"].ToString();
        var encoding = query["encoding-type"].ToString();
        if (encoding.Length > 0 && encoding != "url")
            throw S3Exception.InvalidArgument("Invalid Encoding Method specified in Request: encoding-type must be url.");
        var maxKeys = MaxKeys;
        if (query.TryGetValue("max-keys", out var max) && max.Count > 0)
        {
            if (!int.TryParse(max.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out maxKeys))
                throw S3Exception.InvalidArgument("max-keys must be a whole number from 0 to 2147483647.");
            maxKeys = Math.Min(maxKeys, MaxKeys);
        }
        var token = v2 ? query["continuation-token"].ToString() : "";
        var startAfter = v2 ? query["start-after"].ToString() : query["marker"].ToString();

        var listing = maxKeys == 0
            ? new Listing([], [], false, null)
            : delimiter == "/"
                ? await ListFolderAsync(bucket, prefix, token, startAfter, maxKeys, ct)
                : await ListPathsAsync(bucket, prefix, delimiter, token, startAfter, maxKeys, ct);

        string Enc(string value) => encoding == "url" ? Uri.EscapeDataString(value).Replace("%2F", "/", StringComparison.Ordinal) : value;
        var contents = listing.Contents.Select(o => E("Contents",
            E("Key", Enc(o.Key)), E("LastModified", Time(o.Modified)), E("ETag", Quoted(o.ETag)), E("Size", o.Size), E("StorageClass", "STANDARD")));
        var prefixes = listing.CommonPrefixes.Select(p => E("CommonPrefixes", E("Prefix", Enc(p))));
        XElement root;
        if (v2)
        {
            root = E("ListBucketResult",
                E("Name", bucket), E("Prefix", Enc(prefix)),
                delimiter.Length > 0 ? E("Delimiter", Enc(delimiter)) : null,
                E("MaxKeys", maxKeys), E("KeyCount", listing.Contents.Count + listing.CommonPrefixes.Count),
                E("IsTruncated", listing.Truncated ? "true" : "false"),
                token.Length > 0 ? E("ContinuationToken", token) : null,
                listing.Truncated ? E("NextContinuationToken", listing.NextToken) : null,
                startAfter.Length > 0 ? E("StartAfter", Enc(startAfter)) : null,
                encoding.Length > 0 ? E("EncodingType", encoding) : null,
                contents, prefixes);
        }
        else
        {
            // v1 resumes from a key: the last one returned, key or common prefix (NextMarker is sent with a delimiter, as S3 does).
            var last = new[] { listing.Contents.LastOrDefault()?.Key, listing.CommonPrefixes.LastOrDefault() }
                .Where(k => k is not null).Max(StringComparer.Ordinal);
            root = E("ListBucketResult",
                E("Name", bucket), E("Prefix", Enc(prefix)), E("Marker", Enc(startAfter)),
                listing.Truncated && delimiter.Length > 0 && last is not null ? E("NextMarker", Enc(last)) : null,
                E("MaxKeys", maxKeys),
                delimiter.Length > 0 ? E("Delimiter", Enc(delimiter)) : null,
                E("IsTruncated", listing.Truncated ? "true" : "false"),
                encoding.Length > 0 ? E("EncodingType", encoding) : null,
                contents, prefixes);
        }
        await WriteAsync(context, root);
    }

    /// <summary>Delimiter "/": the children of the folder the prefix ends in whose names start with the prefix's last part.</summary>
    private async Task<Listing> ListFolderAsync(string bucket, string prefix, string token, string startAfter, int maxKeys, CancellationToken ct)
    {
        var empty = new Listing([], [], false, null);
        var parentKey = prefix[..(prefix.LastIndexOf('/') + 1)];
        var namePrefix = prefix[parentKey.Length..];
        var bucketPath = "/" + bucket;
        var parentPath = parentKey.Length == 0 ? bucketPath : bucketPath + "/" + parentKey[..^1];
        if (!DfsPath.TryNormalize(parentPath, out var normalizedParent, out _) || normalizedParent != parentPath) return empty;
        var parent = await names.FindAsync(parentPath, ct);
        if (parent is not { Kind: EntryKind.Directory }) return empty;

        Resume? resume = null;
        if (token.Length > 0) resume = DecodeToken(token, 'n');
        else if (startAfter.Length > 0)
        {
            if (string.CompareOrdinal(startAfter, parentKey) < 0) resume = null;
            else if (!startAfter.StartsWith(parentKey, StringComparison.Ordinal)) return empty;
            else
            {
                var rest = startAfter[parentKey.Length..];
                var slash = rest.IndexOf('/');
                // "a/x": folder a still has keys after it (listed); "a/": that common prefix itself was the last one returned.
                resume = slash < 0 ? new Resume(rest, false) : new Resume(rest[..slash], slash < rest.Length - 1);
            }
        }

        var rows = names.Db.Entries.Where(e => e.ParentId == parent.Id);
        if (namePrefix.Length > 0) rows = rows.Where(e => e.Name.CompareTo(namePrefix) >= 0);
        if (resume is { Inclusive: true }) rows = rows.Where(e => e.Name.CompareTo(resume.Value) >= 0);
        else if (resume is not null) rows = rows.Where(e => e.Name.CompareTo(resume.Value) > 0);
        var page = await rows.OrderBy(e => e.Name).Take(maxKeys + 1)
            .Select(e => new { e.Name, e.Kind, e.ModifiedAt, e.CurrentVersionId }).ToListAsync(ct);
        page = page.TakeWhile(e => e.Name.StartsWith(namePrefix, StringComparison.Ordinal)).ToList();
        var truncated = page.Count > maxKeys;
        if (truncated) page.RemoveAt(page.Count - 1);

        var versions = await VersionsAsync(page.Select(e => e.CurrentVersionId), ct);
        var contents = new List<ListedObject>();
        var prefixes = new List<string>();
        foreach (var e in page)
        {
            if (e.Kind == EntryKind.Directory) prefixes.Add(parentKey + e.Name + "/");
            else if (e.CurrentVersionId is { } id && versions.TryGetValue(id, out var v)) contents.Add(new ListedObject(parentKey + e.Name, v.Size, e.ModifiedAt, v.ETag));
        }
        return new Listing(contents, prefixes, truncated, truncated ? EncodeToken('n', page[^1].Name, false) : null);
    }

    /// <summary>No delimiter (or another one): the files and empty folders below the prefix, in path order.</summary>
    private async Task<Listing> ListPathsAsync(string bucket, string prefix, string delimiter, string token, string startAfter, int maxKeys, CancellationToken ct)
    {
        var basePath = "/" + bucket + "/";
        // Every path in the bucket sorts before this one ('0' follows '/').
        var bucketEnd = "/" + bucket + "0";
        var position = new Resume(basePath + prefix, true);
        if (token.Length > 0) position = Max(position, DecodeToken(token, 'p'));
        else if (startAfter.Length > 0)
            position = Max(position, delimiter.Length > 0 && startAfter.EndsWith(delimiter, StringComparison.Ordinal)
                ? new Resume(basePath + SeekPast(startAfter), true)
                : new Resume(basePath + startAfter, false));

        var contents = new List<ListedObject>();
        var prefixes = new List<string>();
        var db = names.Db;
        var batch = Math.Min(maxKeys + 1, 1000);
        while (true)
        {
            var from = position;
            var rows = db.Entries.Where(e => e.Path.CompareTo(bucketEnd) < 0
                && (e.Kind == EntryKind.File || !db.Entries.Any(c => c.ParentId == e.Id)));
            rows = from.Inclusive ? rows.Where(e => e.Path.CompareTo(from.Value) >= 0) : rows.Where(e => e.Path.CompareTo(from.Value) > 0);
            var page = await rows.OrderBy(e => e.Path).Take(batch)
                .Select(e => new { e.Path, e.Kind, e.ModifiedAt, e.CurrentVersionId }).ToListAsync(ct);
            var versions = await VersionsAsync(page.Select(e => e.CurrentVersionId), ct);
            var jumped = false;
            foreach (var e in page)
            {
                var key = e.Path[basePath.Length..] + (e.Kind == EntryKind.Directory ? "/" : "");
                if (!key.StartsWith(prefix, StringComparison.Ordinal)) return new Listing(contents, prefixes, false, null);
                if (contents.Count + prefixes.Count == maxKeys)
                    return new Listing(contents, prefixes, true, EncodeToken('p', position.Value, position.Inclusive));
                var cut = delimiter.Length > 0 ? key.IndexOf(delimiter, prefix.Length, StringComparison.Ordinal) : -1;
                if (cut >= 0)
                {
                    var common = key[..(cut + delimiter.Length)];
                    prefixes.Add(common);
                    position = new Resume(basePath + SeekPast(common), true);
                    jumped = true;
                    break;
                }
                if (e.Kind == EntryKind.Directory) contents.Add(new ListedObject(key, 0, e.ModifiedAt, EmptyMd5));
                else if (e.CurrentVersionId is { } id && versions.TryGetValue(id, out var v)) contents.Add(new ListedObject(key, v.Size, e.ModifiedAt, v.ETag));
                position = new Resume(e.Path, false);
            }
            if (!jumped && page.Count < batch) return new Listing(contents, prefixes, false, null);
        }
    }

    private const string EmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";

    /// <summary>The first string after every string that starts with <paramref name="common"/> (its last character, plus one).</summary>
    private static string SeekPast(string common) => common[..^1] + (char)(common[^1] + 1);

    private static Resume Max(Resume a, Resume b)
    {
        var order = string.CompareOrdinal(a.Value, b.Value);
        return order > 0 ? a : order < 0 ? b : a.Inclusive ? b : a;
    }

    private async Task<Dictionary<Guid, (long Size, string ETag)>> VersionsAsync(IEnumerable<Guid?> ids, CancellationToken ct)
    {
        var wanted = ids.OfType<Guid>().ToList();
        if (wanted.Count == 0) return [];
        var rows = await names.Db.Versions.Where(v => wanted.Contains(v.Id)).Select(v => new { v.Id, v.Size, v.Md5, v.MultipartETag }).ToListAsync(ct);
        return rows.ToDictionary(v => v.Id, v => (v.Size, v.MultipartETag ?? v.Md5));
    }

    private static string EncodeToken(char kind, string value, bool inclusive) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{kind}{(inclusive ? 'i' : 'x')}{value}"));

    private static Resume DecodeToken(string token, char kind)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.Length >= 2 && text[0] == kind && text[1] is 'i' or 'x') return new Resume(text[2..], text[1] == 'i');
        }
        catch (FormatException)
        {
        }
        throw S3Exception.InvalidArgument("The continuation token provided is incorrect.");
    }
}
