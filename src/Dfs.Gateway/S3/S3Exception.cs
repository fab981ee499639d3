namespace Dfs.Gateway.S3;

/// <summary>
/// A refusal on the S3 API: the HTTP status, S3's error code (the one AWS documents for the case, so clients react to it
/// as they do with AWS) and a message for people. Written as S3's XML error document.
/// </summary>
public sealed class S3Exception(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    public static S3Exception AccessDenied(string message = "Access Denied") => new(StatusCodes.Status403Forbidden, "AccessDenied", message);
    public static S3Exception SignatureDoesNotMatch(string message = "The request signature we calculated does not match the signature you provided. Check your key and signing method.") =>
        new(StatusCodes.Status403Forbidden, "SignatureDoesNotMatch", message);
    public static S3Exception InvalidAccessKeyId() =>
        new(StatusCodes.Status403Forbidden, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
    public static S3Exception AuthorizationHeaderMalformed(string message) => new(StatusCodes.Status400BadRequest, "AuthorizationHeaderMalformed", message);
    public static S3Exception AuthorizationQueryParametersError(string message) => new(StatusCodes.Status400BadRequest, "AuthorizationQueryParametersError", message);
    public static S3Exception RequestTimeTooSkewed() =>
        new(StatusCodes.Status403Forbidden, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large.");
    public static S3Exception ExpiredToken(string message = "Request has expired") => new(StatusCodes.Status403Forbidden, "AccessDenied", message);
    public static S3Exception InvalidArgument(string message) => new(StatusCodes.Status400BadRequest, "InvalidArgument", message);
    public static S3Exception InvalidRequest(string message) => new(StatusCodes.Status400BadRequest, "InvalidRequest", message);
    public static S3Exception IncompleteBody(string message = "You did not provide the number of bytes specified by the Content-Length HTTP header.") =>
        new(StatusCodes.Status400BadRequest, "IncompleteBody", message);
    public static S3Exception ContentSha256Mismatch(string message = "The provided 'x-amz-content-sha256' header does not match what was computed.") =>
        new(StatusCodes.Status400BadRequest, "XAmzContentSHA256Mismatch", message);
    public static S3Exception BadDigest(string message) => new(StatusCodes.Status400BadRequest, "BadDigest", message);
    public static S3Exception InvalidDigest(string message) => new(StatusCodes.Status400BadRequest, "InvalidDigest", message);

    /// <summary>SigV2, SigV4A or anything but AWS4-HMAC-SHA256: S3's own answer in regions that accept only SigV4.</summary>
    public static S3Exception UnsupportedAuthorization(string detail) =>
        new(StatusCodes.Status400BadRequest, "InvalidRequest", "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256. " + detail);
    public static S3Exception InvalidToken(string message = "The provided token is malformed or otherwise invalid.") =>
        new(StatusCodes.Status400BadRequest, "InvalidToken", message);
    public static S3Exception HeadersNotSigned(IEnumerable<string> headers) =>
        new(StatusCodes.Status403Forbidden, "AccessDenied", "There were headers present in the request which were not signed: " + string.Join(", ", headers));
    public static S3Exception MalformedTrailer(string message) => new(StatusCodes.Status400BadRequest, "MalformedTrailerError",
        "The request contained trailing data that was not well-formed or did not conform to our published schema. " + message);
}
