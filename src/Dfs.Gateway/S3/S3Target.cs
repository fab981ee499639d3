using Dfs.Contracts.Paths;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.S3;

/// <summary>
/// What an S3 request addresses: no bucket (the service: ListBuckets), a bucket, or a key in a bucket. Path-style
/// (/BUCKET/KEY) or virtual-host-style (BUCKET.{Dfs:Gateway:S3Domain}/KEY). The key is taken from the request line as the
/// client sent it and decoded once, so an encoded '/' (%2F) is a '/' of the key, as on S3.
/// </summary>
public sealed record S3Target(string? Bucket, string? Key)
{
    /// <summary>The bucket's folder: /BUCKET.</summary>
    public string BucketPath => "/" + Bucket;

    public string Resource => Bucket is null ? "/" : Key is null ? "/" + Bucket : "/" + Bucket + "/" + Key;

    public static S3Target Resolve(HttpContext context, string? virtualHostDomain)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        var path = raw is { Length: > 0 } && raw[0] == '/' ? raw : (context.Request.PathBase + context.Request.Path).ToString();
        var query = path.IndexOf('?');
        if (query >= 0) path = path[..query];
        var decoded = Decode(path.TrimStart('/'));

        var host = context.Request.Host.Host;
        if (virtualHostDomain is { Length: > 0 } domain && host.Length > domain.Length + 1
            && host.EndsWith("." + domain, StringComparison.OrdinalIgnoreCase))
        {
            var bucket = host[..^(domain.Length + 1)];
            return new S3Target(bucket, decoded.Length == 0 ? null : decoded);
        }
        if (decoded.Length == 0) return new S3Target(null, null);
        var slash = decoded.IndexOf('/');
        if (slash < 0) return new S3Target(decoded, null);
        var key = decoded[(slash + 1)..];
        return new S3Target(decoded[..slash], key.Length == 0 ? null : key);
    }

    private static string Decode(string value)
    {
        try { return Uri.UnescapeDataString(value); }
        catch (UriFormatException) { throw S3Exception.InvalidArgument("The request's path is not valid percent-encoded UTF-8."); }
    }
}

/// <summary>
/// Buckets are top-level folders, keys the paths below them. A key ending in '/' is a folder (S3 tools' "folder marker"
/// objects). Keys that are no Dfs path (an empty segment "a//b", a "." or ".." segment, a control character, a segment over
/// 255 bytes) are refused with InvalidArgument; keys are kept in Unicode NFC, so two spellings of one name are one object.
/// </summary>
public static class S3Keys
{
    public static string BucketPath(string bucket)
    {
        if (!DfsPath.TryValidateSegment(bucket, out var error))
            throw new S3Exception(StatusCodes.Status400BadRequest, "InvalidBucketName", $"The bucket name '{bucket}' is not a folder name: {error}");
        return "/" + bucket;
    }

    /// <summary>The path of <paramref name="key"/> in <paramref name="bucket"/>, and whether the key names a folder (ends in '/').</summary>
    public static (string Path, bool IsFolder) ObjectPath(string bucket, string key)
    {
        var bucketPath = BucketPath(bucket);
        var isFolder = key.EndsWith('/');
        var body = isFolder ? key[..^1] : key;
        if (body.Length == 0)
            throw new S3Exception(StatusCodes.Status400BadRequest, "InvalidArgument", $"The key '{Shorten(key)}' names no object below the bucket.");
        if (!DfsPath.TryNormalize(bucketPath + "/" + body, out var path, out var error))
            throw new S3Exception(StatusCodes.Status400BadRequest, "InvalidArgument", $"The key '{Shorten(key)}' cannot be stored: {error}");
        return (path, isFolder);
    }

    /// <summary>The key of <paramref name="path"/> (a path below <paramref name="bucketPath"/>).</summary>
    public static string KeyOf(string bucketPath, string path, bool isFolder = false) =>
        path[(bucketPath.Length + 1)..] + (isFolder ? "/" : "");

    /// <summary>S3's bucket naming rules, for new buckets: 3–63 of a-z 0-9 . -, starting and ending with a letter or digit.</summary>
    public static void RequireValidNewBucketName(string bucket)
    {
        var valid = bucket.Length is >= 3 and <= 63
            && bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '-')
            && char.IsAsciiLetterOrDigit(bucket[0]) && char.IsAsciiLetterOrDigit(bucket[^1])
            && !bucket.Contains("..", StringComparison.Ordinal);
        if (!valid)
            throw new S3Exception(StatusCodes.Status400BadRequest, "InvalidBucketName",
                $"The specified bucket is not valid: '{Shorten(bucket)}' (3 to 63 lowercase letters, digits, dots and hyphens).");
    }

    private static string Shorten(string value) => value.Length > 200 ? value[..200] + "…" : value;
}
