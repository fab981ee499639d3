namespace Dfs.Gateway.S3.Signing;

/// <summary>The credential scope of a SigV4 signature: whose key, and the day, region and service it was derived for.</summary>
public sealed record SigV4Scope(string AccessKeyId, string Date /* yyyyMMdd */, string Region, string Service)
{
    /// <summary>The scope as it appears in the string to sign: date/region/service/aws4_request.</summary>
    public string CredentialScope => $"{Date}/{Region}/{Service}/aws4_request";
}

/// <summary>What the request claims: from the Authorization header or from a presigned URL's query.</summary>
/// <param name="PayloadHash">The x-amz-content-sha256 value (a hex digest, UNSIGNED-PAYLOAD or STREAMING-*); UNSIGNED-PAYLOAD for a
/// presigned URL unless its query carries X-Amz-Content-Sha256.</param>
/// <param name="Expires">A presigned URL's X-Amz-Expires; null for header authentication.</param>
public sealed record SigV4Claim(SigV4Scope Scope, IReadOnlyList<string> SignedHeaders, string Signature, DateTimeOffset RequestTime,
    string PayloadHash, bool Presigned, TimeSpan? Expires);
