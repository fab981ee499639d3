using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Amazon.S3;
using Amazon.S3.Model;
using ByteRange = Amazon.S3.Model.ByteRange;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests.S3;

/// <summary>
/// The S3 API with the AWS SDK for .NET, unchanged, against a real cluster: every operation, its errors as S3's codes,
/// the namespace it shares with the Dfs API, and users' rights through their access keys.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class S3ApiTests(ClusterFixture cluster) : IAsyncDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly S3ClientFactory _s3 = new(cluster);

    public ValueTask DisposeAsync() => _s3.DisposeAsync();

    private static async Task<AmazonS3Exception> S3ErrorAsync(string code, HttpStatusCode status, Func<Task> action)
    {
        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(action);
        Assert.Equal(status, e.StatusCode);
        if (code.Length > 0) Assert.Equal(code, e.ErrorCode);
        return e;
    }

    private static async Task<byte[]> ReadAllAsync(IAmazonS3 s3, string bucket, string key, ByteRange? range = null)
    {
        using var response = await s3.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key, ByteRange = range }, Ct);
        using var memory = new MemoryStream();
        await response.ResponseStream.CopyToAsync(memory, Ct);
        return memory.ToArray();
    }

    private static string Md5Hex(byte[] data) => Convert.ToHexStringLower(MD5.HashData(data));

    [Fact]
    public async Task Buckets_are_top_level_folders_created_listed_headed_and_deleted_with_S3s_errors()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-buckets", Ct);
        Assert.Contains((await s3.ListBucketsAsync(new ListBucketsRequest(), Ct)).Buckets, b => b.BucketName == "s3-buckets");
        Assert.Equal(EntryKind.Directory, (await cluster.Gateway.StatAsync("/s3-buckets", Ct)).Kind);
        await s3.HeadBucketAsync(new HeadBucketRequest { BucketName = "s3-buckets" }, Ct);

        await S3ErrorAsync("BucketAlreadyOwnedByYou", HttpStatusCode.Conflict, () => s3.PutBucketAsync("s3-buckets", Ct));
        await S3ErrorAsync("InvalidBucketName", HttpStatusCode.BadRequest, () => s3.PutBucketAsync("Not_A_Bucket", Ct));
        await S3ErrorAsync("", HttpStatusCode.NotFound, () => s3.HeadBucketAsync(new HeadBucketRequest { BucketName = "s3-no-such-bucket" }, Ct));
        await S3ErrorAsync("NoSuchBucket", HttpStatusCode.NotFound, () => s3.DeleteBucketAsync("s3-no-such-bucket", Ct));
        await S3ErrorAsync("NoSuchBucket", HttpStatusCode.NotFound,
            () => s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-no-such-bucket", Key = "a", ContentBody = "x" }, Ct));

        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-buckets", Key = "keep/me.txt", ContentBody = "x" }, Ct);
        await S3ErrorAsync("BucketNotEmpty", HttpStatusCode.Conflict, () => s3.DeleteBucketAsync("s3-buckets", Ct));
        Assert.Equal("x", System.Text.Encoding.UTF8.GetString(await ReadAllAsync(s3, "s3-buckets", "keep/me.txt")));
        await s3.DeleteObjectAsync("s3-buckets", "keep/me.txt", Ct);
        await s3.DeleteObjectAsync("s3-buckets", "keep/", Ct);
        await s3.DeleteBucketAsync("s3-buckets", Ct);
        Assert.DoesNotContain((await s3.ListBucketsAsync(new ListBucketsRequest(), Ct)).Buckets ?? [], b => b.BucketName == "s3-buckets");
    }

    [Fact]
    public async Task Objects_round_trip_byte_for_byte_with_metadata_ranges_and_conditions_and_are_dfs_files()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-objects", Ct);
        var data = TestData.Random(3 * ClusterFixture.ChunkSize + 4321, 71);
        var put = await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "s3-objects",
            Key = "nested/deeper/data.bin",
            InputStream = new MemoryStream(data),
            ContentType = "application/x-test",
            Metadata = { ["colour"] = "blue", ["owner"] = "s3 tests" },
            Headers = { ContentDisposition = "attachment; filename=\"data.bin\"" },
        }, Ct);
        Assert.Equal($"\"{Md5Hex(data)}\"", put.ETag);

        // The same file through the Dfs API: path, bytes, digests.
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/s3-objects/nested/deeper/data.bin", Ct));
        Assert.Equal(data, await ReadAllAsync(s3, "s3-objects", "nested/deeper/data.bin"));

        var head = await s3.GetObjectMetadataAsync("s3-objects", "nested/deeper/data.bin", Ct);
        Assert.Equal(data.Length, head.ContentLength);
        Assert.Equal("application/x-test", head.Headers.ContentType);
        Assert.Equal("blue", head.Metadata["colour"]);
        Assert.Equal("s3 tests", head.Metadata["owner"]);
        Assert.Equal("attachment; filename=\"data.bin\"", head.Headers.ContentDisposition);
        Assert.Equal($"\"{Md5Hex(data)}\"", head.ETag);

        // Ranges, within a chunk and across chunk boundaries, and a suffix.
        Assert.Equal(data[100..200], await ReadAllAsync(s3, "s3-objects", "nested/deeper/data.bin", new ByteRange(100, 199)));
        var across = (int)ClusterFixture.ChunkSize - 10;
        Assert.Equal(data[across..(across + 2_000_000)], await ReadAllAsync(s3, "s3-objects", "nested/deeper/data.bin", new ByteRange(across, across + 1_999_999)));
        Assert.Equal(data[^50..], await ReadAllAsync(s3, "s3-objects", "nested/deeper/data.bin", new ByteRange("bytes=-50")));
        await S3ErrorAsync("InvalidRange", HttpStatusCode.RequestedRangeNotSatisfiable,
            () => ReadAllAsync(s3, "s3-objects", "nested/deeper/data.bin", new ByteRange(data.Length + 10, data.Length + 20)));

        // Conditions: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.
        var etag = head.ETag;
        using (var ok = await s3.GetObjectAsync(new GetObjectRequest { BucketName = "s3-objects", Key = "nested/deeper/data.bin", EtagToMatch = etag }, Ct))
            Assert.Equal(HttpStatusCode.OK, ok.HttpStatusCode);
        await S3ErrorAsync("PreconditionFailed", HttpStatusCode.PreconditionFailed,
            () => s3.GetObjectAsync(new GetObjectRequest { BucketName = "s3-objects", Key = "nested/deeper/data.bin", EtagToMatch = "\"0123\"" }, Ct));
        await S3ErrorAsync("", HttpStatusCode.NotModified,
            () => s3.GetObjectAsync(new GetObjectRequest { BucketName = "s3-objects", Key = "nested/deeper/data.bin", EtagToNotMatch = etag }, Ct));
        await S3ErrorAsync("", HttpStatusCode.NotModified,
            () => s3.GetObjectAsync(new GetObjectRequest { BucketName = "s3-objects", Key = "nested/deeper/data.bin", ModifiedSinceDate = DateTime.UtcNow.AddMinutes(5) }, Ct));
        await S3ErrorAsync("PreconditionFailed", HttpStatusCode.PreconditionFailed,
            () => s3.GetObjectAsync(new GetObjectRequest { BucketName = "s3-objects", Key = "nested/deeper/data.bin", UnmodifiedSinceDate = DateTime.UtcNow.AddHours(-1) }, Ct));

        // Overwrite replaces; an empty object; a folder marker is a folder.
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "nested/deeper/data.bin", ContentBody = "v2" }, Ct);
        Assert.Equal("v2"u8.ToArray(), await ReadAllAsync(s3, "s3-objects", "nested/deeper/data.bin"));
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "empty", InputStream = new MemoryStream() }, Ct);
        Assert.Empty(await ReadAllAsync(s3, "s3-objects", "empty"));
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "folder/", InputStream = new MemoryStream() }, Ct);
        Assert.Equal(EntryKind.Directory, (await cluster.Gateway.StatAsync("/s3-objects/folder", Ct)).Kind);

        await S3ErrorAsync("NoSuchKey", HttpStatusCode.NotFound, () => ReadAllAsync(s3, "s3-objects", "nested/missing"));
        await S3ErrorAsync("NoSuchBucket", HttpStatusCode.NotFound, () => ReadAllAsync(s3, "s3-no-such-bucket", "x"));
        await S3ErrorAsync("", HttpStatusCode.NotFound, () => s3.GetObjectMetadataAsync("s3-objects", "nested/missing", Ct));
        await S3ErrorAsync("InvalidArgument", HttpStatusCode.BadRequest,
            () => s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-objects", Key = "a//b", ContentBody = "x" }, Ct));
    }

    [Fact]
    public async Task Bad_digests_are_refused_and_leave_the_stored_object_as_it_was()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-digests", Ct);
        var original = TestData.Random(200_000, 72);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-digests", Key = "file.bin", InputStream = new MemoryStream(original) }, Ct);
        var other = TestData.Random(200_000, 73);

        await S3ErrorAsync("BadDigest", HttpStatusCode.BadRequest, () => s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "s3-digests", Key = "file.bin", InputStream = new MemoryStream(other), MD5Digest = Convert.ToBase64String(MD5.HashData(original)),
        }, Ct));
        // The SDK computes its own checksums: a wrong x-amz-checksum-sha256 is sent by hand, signed into a presigned PUT
        // (x-amz-* headers must be signed, as on S3).
        var wrongSha = Convert.ToBase64String(SHA256.HashData(original));
        var presign = new GetPreSignedUrlRequest
        {
            BucketName = "s3-digests", Key = "file.bin", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        };
        presign.Headers["x-amz-checksum-sha256"] = wrongSha;
        var url = await s3.GetPreSignedURLAsync(presign);
        using (var put = new HttpRequestMessage(HttpMethod.Put, url) { Content = new ByteArrayContent(other) })
        {
            put.Headers.Add("x-amz-checksum-sha256", wrongSha);
            using var answer = await _s3.Raw().SendAsync(put, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
            Assert.Equal("BadDigest", XDocument.Parse(await answer.Content.ReadAsStringAsync(Ct)).Root!.Element("Code")!.Value);
        }
        await S3ErrorAsync("InvalidDigest", HttpStatusCode.BadRequest, () => s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "s3-digests", Key = "file.bin", InputStream = new MemoryStream(other), MD5Digest = "not base64 md5",
        }, Ct));
        Assert.Equal(original, await ReadAllAsync(s3, "s3-digests", "file.bin"));

        // The right digests are accepted.
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "s3-digests", Key = "file.bin", InputStream = new MemoryStream(other),
            MD5Digest = Convert.ToBase64String(MD5.HashData(other)), ChecksumSHA256 = Convert.ToBase64String(SHA256.HashData(other)),
        }, Ct);
        Assert.Equal(other, await ReadAllAsync(s3, "s3-digests", "file.bin"));
    }

    [Fact]
    public async Task Listings_v2_and_v1_page_with_prefix_delimiter_tokens_and_start_after_as_S3_does()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-listing", Ct);
        string[] keys = ["a.txt", "a/1", "a/2", "a/b/3", "b", "c/d/e/4", "photos.zip", "photos/2024/x.jpg", "photos/2024/y.jpg", "photos/2025/z.jpg", "z"];
        foreach (var key in keys)
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-listing", Key = key, ContentBody = key }, Ct);
        var sorted = keys.Order(StringComparer.Ordinal).ToList();

        // Flat, paged by 3: every key once, in S3's order.
        var seen = new List<string>();
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", MaxKeys = 3, ContinuationToken = token }, Ct);
            Assert.True(page.KeyCount <= 3);
            seen.AddRange(page.S3Objects.Select(o => o.Key));
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
        Assert.Equal(sorted, seen);

        var root = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", Delimiter = "/" }, Ct);
        Assert.Equal(["a.txt", "b", "photos.zip", "z"], root.S3Objects.Select(o => o.Key));
        Assert.Equal(["a/", "c/", "photos/"], root.CommonPrefixes);
        var sizes = root.S3Objects.ToDictionary(o => o.Key, o => o.Size);
        Assert.Equal("photos.zip".Length, sizes["photos.zip"]);

        var photos = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", Prefix = "photos/", Delimiter = "/" }, Ct);
        Assert.Empty(photos.S3Objects ?? []);
        Assert.Equal(["photos/2024/", "photos/2025/"], photos.CommonPrefixes);
        var partial = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", Prefix = "photos/2024/x", Delimiter = "/" }, Ct);
        Assert.Equal(["photos/2024/x.jpg"], partial.S3Objects.Select(o => o.Key));
        var prefixed = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", Prefix = "photo" }, Ct);
        Assert.Equal(sorted.Where(k => k.StartsWith("photo", StringComparison.Ordinal)), prefixed.S3Objects.Select(o => o.Key));
        var after = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", StartAfter = "c/d/e/4" }, Ct);
        Assert.Equal(sorted.Where(k => string.CompareOrdinal(k, "c/d/e/4") > 0), after.S3Objects.Select(o => o.Key));

        // Delimiter listing paged by 2 (common prefixes count), and v1 with markers.
        var mixed = new List<string>();
        token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", Delimiter = "/", MaxKeys = 2, ContinuationToken = token }, Ct);
            mixed.AddRange(page.S3Objects?.Select(o => o.Key) ?? []);
            mixed.AddRange(page.CommonPrefixes ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        } while (token is not null);
        Assert.Equal(["a.txt", "a/", "b", "c/", "photos.zip", "photos/", "z"], mixed.Order(StringComparer.Ordinal));

        var v1 = new List<string>();
        string? marker = null;
        do
        {
            var page = await s3.ListObjectsAsync(new ListObjectsRequest { BucketName = "s3-listing", MaxKeys = 4, Marker = marker }, Ct);
            v1.AddRange(page.S3Objects.Select(o => o.Key));
            marker = page.IsTruncated == true ? page.S3Objects[^1].Key : null;
        } while (marker is not null);
        Assert.Equal(sorted, v1);
        var v1Folders = await s3.ListObjectsAsync(new ListObjectsRequest { BucketName = "s3-listing", Delimiter = "/", Prefix = "a/" }, Ct);
        Assert.Equal(["a/1", "a/2"], v1Folders.S3Objects.Select(o => o.Key));
        Assert.Equal(["a/b/"], v1Folders.CommonPrefixes);

        await S3ErrorAsync("InvalidArgument", HttpStatusCode.BadRequest,
            () => s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-listing", ContinuationToken = "not-a-token" }, Ct));
    }

    [Fact]
    public async Task Delete_delete_objects_and_copy_object_work_on_the_namespace()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-copy", Ct);
        await s3.PutBucketAsync("s3-copy-target", Ct);
        var data = TestData.Random(2 * ClusterFixture.ChunkSize + 99, 74);
        await s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = "s3-copy", Key = "src/file.bin", InputStream = new MemoryStream(data), ContentType = "text/x-original", Metadata = { ["m"] = "1" },
        }, Ct);

        var copy = await s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = "s3-copy", SourceKey = "src/file.bin", DestinationBucket = "s3-copy-target", DestinationKey = "dst/copy.bin",
        }, Ct);
        Assert.Equal($"\"{Md5Hex(data)}\"", copy.ETag);
        Assert.Equal(data, await ReadAllAsync(s3, "s3-copy-target", "dst/copy.bin"));
        var copied = await s3.GetObjectMetadataAsync("s3-copy-target", "dst/copy.bin", Ct);
        Assert.Equal("text/x-original", copied.Headers.ContentType);
        Assert.Equal("1", copied.Metadata["m"]);

        // REPLACE sets new metadata; a copy onto itself needs it.
        await S3ErrorAsync("InvalidRequest", HttpStatusCode.BadRequest, () => s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = "s3-copy", SourceKey = "src/file.bin", DestinationBucket = "s3-copy", DestinationKey = "src/file.bin",
        }, Ct));
        await s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = "s3-copy", SourceKey = "src/file.bin", DestinationBucket = "s3-copy", DestinationKey = "src/file.bin",
            MetadataDirective = S3MetadataDirective.REPLACE, ContentType = "text/x-replaced", Metadata = { ["m"] = "2" },
        }, Ct);
        var replaced = await s3.GetObjectMetadataAsync("s3-copy", "src/file.bin", Ct);
        Assert.Equal("text/x-replaced", replaced.Headers.ContentType);
        Assert.Equal("2", replaced.Metadata["m"]);
        Assert.Equal(data, await ReadAllAsync(s3, "s3-copy", "src/file.bin"));
        await S3ErrorAsync("NoSuchKey", HttpStatusCode.NotFound, () => s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = "s3-copy", SourceKey = "src/missing", DestinationBucket = "s3-copy", DestinationKey = "x",
        }, Ct));
        await S3ErrorAsync("PreconditionFailed", HttpStatusCode.PreconditionFailed, () => s3.CopyObjectAsync(new CopyObjectRequest
        {
            SourceBucket = "s3-copy", SourceKey = "src/file.bin", DestinationBucket = "s3-copy", DestinationKey = "x", ETagToMatch = "\"00\"",
        }, Ct));

        // The source deleted: the copy keeps its bytes (the chunks are shared, not moved).
        await s3.DeleteObjectAsync("s3-copy", "src/file.bin", Ct);
        await s3.DeleteObjectAsync("s3-copy", "src/file.bin", Ct); // deleting what is gone is no error
        Assert.Equal(data, await ReadAllAsync(s3, "s3-copy-target", "dst/copy.bin"));

        foreach (var key in new[] { "k1", "k2", "k3" })
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-copy", Key = "many/" + key, ContentBody = key }, Ct);
        // The SDK throws when any key failed, with the whole answer.
        var deleted = (await Assert.ThrowsAsync<DeleteObjectsException>(() => s3.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = "s3-copy",
            Objects = [new KeyVersion { Key = "many/k1" }, new KeyVersion { Key = "many/k2" }, new KeyVersion { Key = "many/never-there" }, new KeyVersion { Key = "bad//key" }],
        }, Ct))).Response;
        Assert.Equal(["many/k1", "many/k2", "many/never-there"], deleted.DeletedObjects.Select(d => d.Key).Order(StringComparer.Ordinal));
        Assert.Equal("InvalidArgument", Assert.Single(deleted.DeleteErrors).Code);
        var left = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-copy", Prefix = "many/" }, Ct);
        Assert.Equal(["many/k3"], left.S3Objects.Select(o => o.Key));
    }

    [Fact]
    public async Task A_200_MiB_object_uploads_in_parallel_parts_streamed_into_chunks_and_reads_back_byte_for_byte()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-multipart-big", Ct);
        var data = TestData.Random(200L * 1024 * 1024, 76);
        using var transfer = new Amazon.S3.Transfer.TransferUtility(s3, new Amazon.S3.Transfer.TransferUtilityConfig { ConcurrentServiceRequests = 4 });
        await transfer.UploadAsync(new Amazon.S3.Transfer.TransferUtilityUploadRequest
        {
            BucketName = "s3-multipart-big", Key = "big/200.bin", InputStream = new MemoryStream(data), PartSize = 8 * 1024 * 1024, ContentType = "application/x-big",
        }, Ct);

        var head = await s3.GetObjectMetadataAsync("s3-multipart-big", "big/200.bin", Ct);
        Assert.Equal(data.LongLength, head.ContentLength);
        Assert.EndsWith("-25\"", head.ETag);
        Assert.Equal("application/x-big", head.Headers.ContentType);
        // The same file to the Dfs API: whole-file SHA-256 and MD5 of what was sent.
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/s3-multipart-big/big/200.bin", Ct));
        var stat = await cluster.Gateway.StatAsync("/s3-multipart-big/big/200.bin", Ct);
        Assert.Equal(Md5Hex(data), stat.Md5);
        Assert.Equal(data[^1000..], await ReadAllAsync(s3, "s3-multipart-big", "big/200.bin", new ByteRange(data.Length - 1000, data.Length - 1)));
        Assert.Empty((await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = "s3-multipart-big" }, Ct)).MultipartUploads ?? []);
    }

    [Fact]
    public async Task Multipart_parts_are_listed_replaced_validated_completed_and_aborted_as_on_S3()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-multipart", Ct);
        var create = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest
        {
            BucketName = "s3-multipart", Key = "parts/object.bin", ContentType = "text/x-parts", Metadata = { ["via"] = "parts" },
        }, Ct);
        var five = 5 * 1024 * 1024;
        byte[][] parts = [TestData.Random(five, 77), TestData.Random(five + 1234, 78), TestData.Random(777, 79)];
        async Task<string> Part(int number, byte[] bytes) => (await s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "s3-multipart", Key = "parts/object.bin", UploadId = create.UploadId, PartNumber = number, InputStream = new MemoryStream(bytes),
        }, Ct)).ETag;
        var etags = new string[3];
        etags[1] = await Part(2, TestData.Random(100, 80));   // replaced below
        etags[0] = await Part(1, parts[0]);
        etags[1] = await Part(2, parts[1]);
        etags[2] = await Part(3, parts[2]);
        Assert.Equal($"\"{Md5Hex(parts[1])}\"", etags[1]);

        var listed = await s3.ListPartsAsync(new ListPartsRequest { BucketName = "s3-multipart", Key = "parts/object.bin", UploadId = create.UploadId }, Ct);
        Assert.Equal([1, 2, 3], listed.Parts.Select(p => p.PartNumber ?? 0));
        Assert.Equal([parts[0].Length, parts[1].Length, parts[2].Length], listed.Parts.Select(p => p.Size ?? 0).Select(n => (int)n));
        var uploads = await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = "s3-multipart" }, Ct);
        Assert.Contains(uploads.MultipartUploads, u => u.UploadId == create.UploadId && u.Key == "parts/object.bin");
        // Not an object until completed.
        await S3ErrorAsync("NoSuchKey", HttpStatusCode.NotFound, () => ReadAllAsync(s3, "s3-multipart", "parts/object.bin"));

        CompleteMultipartUploadRequest Complete(params (int Number, string ETag)[] list) => new()
        {
            BucketName = "s3-multipart", Key = "parts/object.bin", UploadId = create.UploadId,
            PartETags = [.. list.Select(p => new PartETag(p.Number, p.ETag))],
        };
        await S3ErrorAsync("InvalidPart", HttpStatusCode.BadRequest, () => s3.CompleteMultipartUploadAsync(Complete((1, etags[0]), (2, etags[0]), (3, etags[2])), Ct));
        // The SDK sorts the list it is given: a part named twice is what it still sends out of order.
        await S3ErrorAsync("InvalidPartOrder", HttpStatusCode.BadRequest, () => s3.CompleteMultipartUploadAsync(Complete((1, etags[0]), (1, etags[0])), Ct));
        await S3ErrorAsync("EntityTooSmall", HttpStatusCode.BadRequest, () => s3.CompleteMultipartUploadAsync(Complete((1, etags[0]), (3, etags[2]), (4, etags[2])), Ct));

        var done = await s3.CompleteMultipartUploadAsync(Complete((1, etags[0]), (2, etags[1]), (3, etags[2])), Ct);
        var expectedETag = Convert.ToHexStringLower(MD5.HashData(parts.SelectMany(p => MD5.HashData(p)).ToArray())) + "-3";
        Assert.Equal($"\"{expectedETag}\"", done.ETag);
        var whole = parts.SelectMany(p => p).ToArray();
        Assert.Equal(whole, await ReadAllAsync(s3, "s3-multipart", "parts/object.bin"));
        var head = await s3.GetObjectMetadataAsync("s3-multipart", "parts/object.bin", Ct);
        Assert.Equal($"\"{expectedETag}\"", head.ETag);
        Assert.Equal("text/x-parts", head.Headers.ContentType);
        Assert.Equal("parts", head.Metadata["via"]);
        await S3ErrorAsync("NoSuchUpload", HttpStatusCode.NotFound, () => s3.CompleteMultipartUploadAsync(Complete((1, etags[0])), Ct));

        // Aborted: its parts go, and it takes no more.
        var abandoned = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "s3-multipart", Key = "parts/abandoned.bin" }, Ct);
        await s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "s3-multipart", Key = "parts/abandoned.bin", UploadId = abandoned.UploadId, PartNumber = 1, InputStream = new MemoryStream(parts[2]),
        }, Ct);
        await s3.AbortMultipartUploadAsync("s3-multipart", "parts/abandoned.bin", abandoned.UploadId, Ct);
        await S3ErrorAsync("NoSuchUpload", HttpStatusCode.NotFound, () => s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "s3-multipart", Key = "parts/abandoned.bin", UploadId = abandoned.UploadId, PartNumber = 2, InputStream = new MemoryStream(parts[2]),
        }, Ct));
        await S3ErrorAsync("NoSuchUpload", HttpStatusCode.NotFound,
            () => s3.ListPartsAsync(new ListPartsRequest { BucketName = "s3-multipart", Key = "parts/other.bin", UploadId = create.UploadId }, Ct));
        await S3ErrorAsync("InvalidArgument", HttpStatusCode.BadRequest, () => s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "s3-multipart", Key = "parts/x.bin", UploadId = abandoned.UploadId, PartNumber = 10_001, InputStream = new MemoryStream(parts[2]),
        }, Ct));
        Assert.Empty((await s3.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = "s3-multipart" }, Ct)).MultipartUploads ?? []);
        await S3ErrorAsync("NoSuchKey", HttpStatusCode.NotFound, () => ReadAllAsync(s3, "s3-multipart", "parts/abandoned.bin"));
    }

    private async Task<bool> ExistsAsync(string path)
    {
        try
        {
            await cluster.Gateway.StatAsync(path, Ct);
            return true;
        }
        catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [Fact]
    public async Task Deleting_the_last_key_below_folders_removes_them_but_never_the_bucket_a_home_or_a_shared_folder()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-emptied", Ct);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-emptied", Key = "a/b/c/one.txt", ContentBody = "1" }, Ct);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-emptied", Key = "a/two.txt", ContentBody = "2" }, Ct);
        await cluster.Gateway.MkdirAsync("/s3-emptied/made", parents: false, Ct);

        await s3.DeleteObjectAsync("s3-emptied", "a/b/c/one.txt", Ct);
        Assert.False(await ExistsAsync("/s3-emptied/a/b"));
        Assert.True(await ExistsAsync("/s3-emptied/a/two.txt"));
        // A key that was not there deletes nothing, so no folder either.
        await s3.DeleteObjectAsync("s3-emptied", "made/never-there", Ct);
        Assert.True(await ExistsAsync("/s3-emptied/made"));
        await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "s3-emptied", Objects = [new KeyVersion { Key = "a/two.txt" }] }, Ct);
        Assert.False(await ExistsAsync("/s3-emptied/a"));
        var left = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-emptied" }, Ct);
        Assert.Equal(["made/"], left.S3Objects.Select(o => o.Key));
        await s3.DeleteObjectAsync("s3-emptied", "made/", Ct);
        Assert.Empty((await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-emptied" }, Ct)).S3Objects ?? []);
        await s3.HeadBucketAsync(new HeadBucketRequest { BucketName = "s3-emptied" }, Ct);
        await s3.DeleteBucketAsync("s3-emptied", Ct);

        // A home stays, and so does a folder shared with someone, though nothing is left in them.
        var carol = await _s3.UserAsync("s3carol", Ct);
        await _s3.UserAsync("s3dave", Ct);
        await carol.PutObjectAsync(new PutObjectRequest { BucketName = "home", Key = "s3carol/deep/er/f.txt", ContentBody = "f" }, Ct);
        await carol.PutObjectAsync(new PutObjectRequest { BucketName = "home", Key = "s3carol/shared/in/g.txt", ContentBody = "g" }, Ct);
        await cluster.Gateway.CreateShareAsync(new CreateShareRequest("/home/s3carol/shared", "s3dave", ShareAccess.Read), Ct);
        await carol.DeleteObjectAsync("home", "s3carol/deep/er/f.txt", Ct);
        await carol.DeleteObjectAsync("home", "s3carol/shared/in/g.txt", Ct);
        Assert.False(await ExistsAsync("/home/s3carol/deep"));
        Assert.False(await ExistsAsync("/home/s3carol/shared/in"));
        Assert.True(await ExistsAsync("/home/s3carol/shared"));
        Assert.True(await ExistsAsync("/home/s3carol"));
    }

    /// <summary>Sends raw HTTP/1.1 on a connection of its own and reads the answer's head (status line and headers).</summary>
    private async Task<string> RawHeadAsync(string request)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_s3.Endpoint.Host, _s3.Endpoint.Port, Ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), Ct);
        return await ReadHeadAsync(stream);
    }

    private static async Task<string> ReadHeadAsync(Stream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (await stream.ReadAsync(one, Ct) == 1)
        {
            head.Append((char)one[0]);
            if (head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal)) break;
        }
        return head.ToString();
    }

    [Fact]
    public async Task An_expect_100_continue_request_answered_without_continue_ends_its_connection()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-expect", Ct);
        var url = new Uri(await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "s3-expect", Key = "empty", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        }));
        var host = $"Host: {_s3.Endpoint.Authority}\r\n";

        // An empty body is never continued (nothing to read): the AWS CLI would read the next answer on this connection wrongly.
        var empty = await RawHeadAsync($"PUT {url.PathAndQuery} HTTP/1.1\r\n{host}Expect: 100-continue\r\nContent-Length: 0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", empty);
        Assert.Contains("Connection: close\r\n", empty);
        Assert.Empty(await ReadAllAsync(s3, "s3-expect", "empty"));

        // Refused before its body is read: also the end of the connection, and nothing stored.
        var refused = await RawHeadAsync($"PUT /s3-expect/refused HTTP/1.1\r\n{host}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 403 Forbidden\r\n", refused);
        Assert.Contains("Connection: close\r\n", refused);
        Assert.False(await ExistsAsync("/s3-expect/refused"));

        // A body sent once continued, as clients do, and read: the connection stays.
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_s3.Endpoint.Host, _s3.Endpoint.Port, Ct);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"PUT {url.PathAndQuery} HTTP/1.1\r\n{host}Expect: 100-continue\r\nContent-Length: 5\r\n\r\n"), Ct);
        Assert.Equal("HTTP/1.1 100 Continue\r\n\r\n", await ReadHeadAsync(stream));
        await stream.WriteAsync("hello"u8.ToArray(), Ct);
        var continued = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", continued);
        Assert.DoesNotContain("Connection: close", continued);
        Assert.Equal("hello"u8.ToArray(), await ReadAllAsync(s3, "s3-expect", "empty"));
    }

    [Fact]
    public async Task Virtual_host_style_requests_name_the_bucket_in_the_host_and_reach_the_same_objects()
    {
        var pathStyle = await _s3.ClientAsync(null, Ct);
        var virtualHost = await _s3.VirtualHostClientAsync(Ct);
        await virtualHost.PutBucketAsync("s3-vhost", Ct);
        Assert.Equal(EntryKind.Directory, (await cluster.Gateway.StatAsync("/s3-vhost", Ct)).Kind);
        await virtualHost.PutObjectAsync(new PutObjectRequest { BucketName = "s3-vhost", Key = "dir/a.txt", ContentBody = "by host" }, Ct);
        Assert.Equal("by host"u8.ToArray(), await ReadAllAsync(pathStyle, "s3-vhost", "dir/a.txt"));
        await pathStyle.PutObjectAsync(new PutObjectRequest { BucketName = "s3-vhost", Key = "dir/b.txt", ContentBody = "by path" }, Ct);
        Assert.Equal("by path"u8.ToArray(), await ReadAllAsync(virtualHost, "s3-vhost", "dir/b.txt"));
        var listing = await virtualHost.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "s3-vhost", Prefix = "dir/" }, Ct);
        Assert.Equal(["dir/a.txt", "dir/b.txt"], listing.S3Objects.Select(o => o.Key));
        Assert.Contains((await virtualHost.ListBucketsAsync(new ListBucketsRequest(), Ct)).Buckets, b => b.BucketName == "s3-vhost");
        await S3ErrorAsync("NoSuchKey", HttpStatusCode.NotFound, () => ReadAllAsync(virtualHost, "s3-vhost", "dir/missing.txt"));
        await virtualHost.DeleteObjectsAsync(new DeleteObjectsRequest
        {
            BucketName = "s3-vhost", Objects = [new KeyVersion { Key = "dir/a.txt" }, new KeyVersion { Key = "dir/b.txt" }],
        }, Ct);
        await virtualHost.DeleteBucketAsync("s3-vhost", Ct);
        Assert.False(await ExistsAsync("/s3-vhost"));
    }

    [Fact]
    public async Task Upload_part_copy_makes_parts_of_other_objects_or_their_ranges()
    {
        const int MiB = 1024 * 1024;
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-partcopy", Ct);
        var source = TestData.Random(6 * MiB + 4321, 76);
        var small = TestData.Random(3000, 77);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-partcopy", Key = "src/big.bin", InputStream = new MemoryStream(source) }, Ct);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = "s3-partcopy", Key = "src/small.bin", InputStream = new MemoryStream(small) }, Ct);
        var upload = await s3.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "s3-partcopy", Key = "copy.bin" }, Ct);
        CopyPartRequest Part(int number, string key, long? first = null, long? last = null) => new()
        {
            SourceBucket = "s3-partcopy", SourceKey = key, DestinationBucket = "s3-partcopy", DestinationKey = "copy.bin",
            UploadId = upload.UploadId, PartNumber = number, FirstByte = first, LastByte = last,
        };

        // Bytes sent, a whole object, then two ranges of it (the last one starting off a chunk boundary).
        var sent = TestData.Random(5 * MiB, 78);
        var one = await s3.UploadPartAsync(new UploadPartRequest
        {
            BucketName = "s3-partcopy", Key = "copy.bin", UploadId = upload.UploadId, PartNumber = 1, InputStream = new MemoryStream(sent),
        }, Ct);
        var two = await s3.CopyPartAsync(Part(2, "src/big.bin"), Ct);
        Assert.Equal($"\"{Md5Hex(source)}\"", two.ETag);
        var three = await s3.CopyPartAsync(Part(3, "src/big.bin", 0, 5 * MiB - 1), Ct);
        Assert.Equal($"\"{Md5Hex(source[..(5 * MiB)])}\"", three.ETag);
        var four = await s3.CopyPartAsync(Part(4, "src/big.bin", 5 * MiB - 7, source.Length - 1), Ct);
        Assert.Equal($"\"{Md5Hex(source[(5 * MiB - 7)..])}\"", four.ETag);

        // Bad ranges and sources: refused, and the parts stay as they were.
        await S3ErrorAsync("InvalidArgument", HttpStatusCode.BadRequest, () => s3.CopyPartAsync(Part(2, "src/big.bin", 0, source.Length), Ct));
        await S3ErrorAsync("NoSuchKey", HttpStatusCode.NotFound, () => s3.CopyPartAsync(Part(2, "src/missing.bin"), Ct));
        await S3ErrorAsync("NoSuchUpload", HttpStatusCode.NotFound,
            () => s3.CopyPartAsync(new CopyPartRequest
            {
                SourceBucket = "s3-partcopy", SourceKey = "src/small.bin", DestinationBucket = "s3-partcopy", DestinationKey = "copy.bin",
                UploadId = "no-such-upload", PartNumber = 1,
            }, Ct));
        var bob = await _s3.UserAsync("s3partcopybob", Ct);
        var bobs = await bob.InitiateMultipartUploadAsync(new InitiateMultipartUploadRequest { BucketName = "home", Key = "s3partcopybob/stolen.bin" }, Ct);
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden, () => bob.CopyPartAsync(new CopyPartRequest
        {
            SourceBucket = "s3-partcopy", SourceKey = "src/small.bin", DestinationBucket = "home", DestinationKey = "s3partcopybob/stolen.bin",
            UploadId = bobs.UploadId, PartNumber = 1,
        }, Ct));

        await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest
        {
            BucketName = "s3-partcopy", Key = "copy.bin", UploadId = upload.UploadId,
            PartETags = [new PartETag(1, one.ETag), new PartETag(2, two.ETag), new PartETag(3, three.ETag), new PartETag(4, four.ETag)],
        }, Ct);
        byte[] expected = [.. sent, .. source, .. source[..(5 * MiB)], .. source[(5 * MiB - 7)..]];
        Assert.Equal(expected, await ReadAllAsync(s3, "s3-partcopy", "copy.bin"));
        Assert.Equal(TestData.Sha256(expected), await cluster.Gateway.DownloadSha256Async("/s3-partcopy/copy.bin", Ct));
    }

    [Fact]
    public async Task Presigned_get_and_put_work_until_they_expire()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-presigned", Ct);
        var http = _s3.Raw();
        var data = TestData.Random(300_000, 75);

        var putUrl = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "s3-presigned", Key = "shared dir/ünï cödé+file.bin", Verb = HttpVerb.PUT, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        });
        using (var put = await http.PutAsync(putUrl, new ByteArrayContent(data), Ct))
            Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var getUrl = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "s3-presigned", Key = "shared dir/ünï cödé+file.bin", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddMinutes(5), Protocol = Protocol.HTTP,
        });
        Assert.Equal(data, await http.GetByteArrayAsync(getUrl, Ct));
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/s3-presigned/shared dir/ünï cödé+file.bin", Ct));

        // Tampered, expired: refused with S3's XML.
        using (var tampered = await http.GetAsync(getUrl.Replace("file.bin", "file.bim", StringComparison.Ordinal), Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, tampered.StatusCode);
            Assert.Equal("SignatureDoesNotMatch", XDocument.Parse(await tampered.Content.ReadAsStringAsync(Ct)).Root!.Element("Code")!.Value);
        }
        var expired = await s3.GetPreSignedURLAsync(new GetPreSignedUrlRequest
        {
            BucketName = "s3-presigned", Key = "shared dir/ünï cödé+file.bin", Verb = HttpVerb.GET, Expires = DateTime.UtcNow.AddSeconds(1), Protocol = Protocol.HTTP,
        });
        await Task.Delay(TimeSpan.FromSeconds(2.5), Ct);
        using var late = await http.GetAsync(expired, Ct);
        Assert.Equal(HttpStatusCode.Forbidden, late.StatusCode);
        Assert.Equal("AccessDenied", XDocument.Parse(await late.Content.ReadAsStringAsync(Ct)).Root!.Element("Code")!.Value);
    }

    [Fact]
    public async Task A_key_acts_with_its_users_rights_homes_and_shares_and_wrong_credentials_are_refused()
    {
        var alice = await _s3.UserAsync("s3alice", Ct);
        var bob = await _s3.UserAsync("s3bob", Ct);
        await alice.PutObjectAsync(new PutObjectRequest { BucketName = "home", Key = "s3alice/notes/a.txt", ContentBody = "alice's" }, Ct);
        Assert.Equal(["home"], (await alice.ListBucketsAsync(new ListBucketsRequest(), Ct)).Buckets.Select(b => b.BucketName));
        var listing = await alice.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "home", Prefix = "s3alice/" }, Ct);
        Assert.Equal(["s3alice/notes/a.txt"], listing.S3Objects.Select(o => o.Key));

        // Bob: nothing of alice's until she shares; never a bucket of his own making.
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden, () => ReadAllAsync(bob, "home", "s3alice/notes/a.txt"));
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden, () => ReadAllAsync(bob, "home", "s3alice/notes/missing.txt"));
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden,
            () => bob.PutObjectAsync(new PutObjectRequest { BucketName = "home", Key = "s3alice/notes/b.txt", ContentBody = "bob's" }, Ct));
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden, () => bob.PutBucketAsync("s3-bobs-bucket", Ct));
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden, () => bob.DeleteObjectAsync("home", "s3alice/notes/a.txt", Ct));
        var bobsDelete = await Assert.ThrowsAsync<DeleteObjectsException>(
            () => bob.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = "home", Objects = [new KeyVersion { Key = "s3alice/notes/a.txt" }] }, Ct));
        Assert.Equal("AccessDenied", Assert.Single(bobsDelete.Response.DeleteErrors).Code);

        using var aliceHttp = cluster.App.CreateGatewayClient();
        aliceHttp.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic("s3alice", "s3alice-password-1");
        await DfsRefit.Gateway(aliceHttp).CreateShareAsync(new CreateShareRequest("/home/s3alice/notes", "s3bob", ShareAccess.Read), Ct);
        Assert.Equal("alice's"u8.ToArray(), await ReadAllAsync(bob, "home", "s3alice/notes/a.txt"));
        await S3ErrorAsync("AccessDenied", HttpStatusCode.Forbidden,
            () => bob.PutObjectAsync(new PutObjectRequest { BucketName = "home", Key = "s3alice/notes/b.txt", ContentBody = "bob's" }, Ct));
        Assert.Equal("alice's"u8.ToArray(), await ReadAllAsync(alice, "home", "s3alice/notes/a.txt"));

        // Wrong secret, unknown key, anonymous, revoked key.
        var key = await _s3.CreateKeyAsync("s3alice", Ct);
        await S3ErrorAsync("SignatureDoesNotMatch", HttpStatusCode.Forbidden,
            () => _s3.Client(key.Id, key.Secret[..^1] + (key.Secret[^1] == 'a' ? 'b' : 'a')).ListBucketsAsync(new ListBucketsRequest(), Ct));
        await S3ErrorAsync("InvalidAccessKeyId", HttpStatusCode.Forbidden,
            () => _s3.Client("DFSNOSUCHKEY000000000", key.Secret).ListBucketsAsync(new ListBucketsRequest(), Ct));
        using (var anonymous = await _s3.Raw().GetAsync("home/s3alice/notes/a.txt", Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, anonymous.StatusCode);
            Assert.Equal("AccessDenied", XDocument.Parse(await anonymous.Content.ReadAsStringAsync(Ct)).Root!.Element("Code")!.Value);
        }
        var revocable = _s3.Client(key.Id, key.Secret);
        await revocable.ListBucketsAsync(new ListBucketsRequest(), Ct);
        await cluster.Gateway.RevokeAccessKeyAsync(key.Id, Ct);
        await S3ErrorAsync("InvalidAccessKeyId", HttpStatusCode.Forbidden, () => revocable.ListBucketsAsync(new ListBucketsRequest(), Ct));
    }

    [Fact]
    public async Task Unsupported_sub_resources_are_refused_by_name_and_the_endpoint_is_in_cluster_json_and_openapi()
    {
        var s3 = await _s3.ClientAsync(null, Ct);
        await s3.PutBucketAsync("s3-misc", Ct);
        await S3ErrorAsync("NotImplemented", HttpStatusCode.NotImplemented, () => s3.GetBucketPolicyAsync(new GetBucketPolicyRequest { BucketName = "s3-misc" }, Ct));
        var location = await s3.GetBucketLocationAsync(new GetBucketLocationRequest { BucketName = "s3-misc" }, Ct);
        Assert.NotNull(location);

        var file = Dfs.Contracts.Cluster.ClusterFile.Read(cluster.App.StateDirectory)!;
        Assert.Equal(_s3.Endpoint.ToString().TrimEnd('/'), file.S3);
        var openApi = await cluster.Http.GetStringAsync("/openapi/v1.json", Ct);
        Assert.Contains("\"/{bucket}/{key}\"", openApi);
        Assert.Contains("CopyObject", openApi);
    }
}
