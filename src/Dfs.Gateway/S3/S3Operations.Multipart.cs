namespace Dfs.Gateway.S3;

/// <summary>Multipart uploads: not served yet (clients fall back to nothing: they must be told plainly).</summary>
public sealed partial class S3Operations
{
    private static S3Exception MultipartNotImplemented() =>
        new(StatusCodes.Status501NotImplemented, "NotImplemented", "Multipart uploads are not implemented yet: upload objects with PutObject.");

    private Task CreateMultipartUploadAsync(HttpContext context, S3Target target) => throw MultipartNotImplemented();
    private Task UploadPartAsync(HttpContext context, S3Target target) => throw MultipartNotImplemented();
    private Task CompleteMultipartUploadAsync(HttpContext context, S3Target target) => throw MultipartNotImplemented();
    private Task AbortMultipartUploadAsync(HttpContext context, S3Target target) => throw MultipartNotImplemented();
    private Task ListPartsAsync(HttpContext context, S3Target target) => throw MultipartNotImplemented();
    private Task ListMultipartUploadsAsync(HttpContext context, S3Target target) => throw MultipartNotImplemented();
}
