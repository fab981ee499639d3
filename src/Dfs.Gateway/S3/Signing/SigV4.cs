using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.S3.Signing;

public sealed record SigV4Scope(string AccessKeyId, string Date, string Region, string Service)
{
    /// <summary>DATE/REGION/SERVICE/aws4_request: what the signature is scoped to.</summary>
    public string Text => $"{Date}/{Region}/{Service}/aws4_request";
}

/// <summary>What a request claims: from its Authorization header, or from a presigned URL's query.</summary>
/// <param name="AmzDate">The request time as signed (yyyyMMdd'T'HHmmss'Z').</param>
/// <param name="PayloadHash">x-amz-content-sha256 as sent (a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-… mode).</param>
public sealed record SigV4Claim(SigV4Scope Scope, IReadOnlyList<string> SignedHeaders, string Signature, string AmzDate,
    DateTimeOffset RequestTime, string PayloadHash, bool Presigned, TimeSpan? Expires);

/// <summary>
/// AWS Signature Version 4 as S3 checks it: the canonical request (method, path, sorted query, signed headers, payload
/// hash), the string to sign over the scope, and the HMAC chain of the secret. Only the check lives here: who the key
/// belongs to is the caller's business.
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private const string AmzDateFormat = "yyyyMMdd'T'HHmmss'Z'";
    private static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(7);

    /// <summary>The request's claim; null when it carries no AWS authentication at all (anonymous).</summary>
    public static SigV4Claim? Parse(HttpRequest request, DateTimeOffset now)
    {
        if (request.Query.ContainsKey("X-Amz-Algorithm") || request.Query.ContainsKey("X-Amz-Signature")) return ParsePresigned(request, now);
        if (request.Query.ContainsKey("Signature") && request.Query.ContainsKey("AWSAccessKeyId"))
            throw S3Exception.AccessDenied("AWS Signature Version 2 is not supported: sign requests with Signature Version 4.");
        var header = request.Headers.Authorization.ToString();
        if (header.Length == 0) return null;
        if (header.StartsWith("AWS ", StringComparison.Ordinal))
            throw S3Exception.AccessDenied("AWS Signature Version 2 is not supported: sign requests with Signature Version 4.");
        if (!header.StartsWith(Algorithm + " ", StringComparison.Ordinal))
            throw S3Exception.AuthorizationHeaderMalformed($"The authorization header is not {Algorithm} (Signature Version 4).");

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in header[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            if (equals <= 0) throw S3Exception.AuthorizationHeaderMalformed($"The authorization header has a malformed part: '{Short(part)}'.");
            var value = part[(equals + 1)..];
            switch (part[..equals])
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
            }
        }
        if (credential is null || signedHeaders is null || signature is null)
            throw S3Exception.AuthorizationHeaderMalformed("The authorization header must have Credential, SignedHeaders and Signature.");
        var scope = ParseScope(credential, S3Exception.AuthorizationHeaderMalformed);

        var amzDate = request.Headers["x-amz-date"].ToString();
        DateTimeOffset time;
        if (amzDate.Length > 0)
        {
            if (!DateTimeOffset.TryParseExact(amzDate, AmzDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
                throw S3Exception.AccessDenied("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
        }
        else if (DateTimeOffset.TryParse(request.Headers.Date.ToString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out time))
        {
            amzDate = time.UtcDateTime.ToString(AmzDateFormat, CultureInfo.InvariantCulture);
        }
        else throw S3Exception.AccessDenied("AWS authentication requires a valid Date or x-amz-date header.");
        if (scope.Date != amzDate[..8])
            throw S3Exception.AuthorizationHeaderMalformed($"The credential's date {scope.Date} is not the request's date {amzDate[..8]}.");
        if ((time - now).Duration() > MaxSkew) throw S3Exception.RequestTimeTooSkewed();

        var payload = request.Headers["x-amz-content-sha256"].ToString();
        if (payload.Length == 0) throw S3Exception.InvalidRequest("Missing required header for this request: x-amz-content-sha256.");
        return new SigV4Claim(scope, SplitHeaders(signedHeaders, S3Exception.AuthorizationHeaderMalformed), signature, amzDate, time, payload,
            Presigned: false, Expires: null);
    }

    private static SigV4Claim ParsePresigned(HttpRequest request, DateTimeOffset now)
    {
        var query = request.Query;
        string Required(string name) => query[name].ToString() is { Length: > 0 } value
            ? value
            : throw S3Exception.AuthorizationQueryParametersError($"Query-string authentication requires the {name} parameter.");
        if (Required("X-Amz-Algorithm") != Algorithm)
            throw S3Exception.AuthorizationQueryParametersError($"X-Amz-Algorithm only supports \"{Algorithm}\".");
        var scope = ParseScope(Required("X-Amz-Credential"), S3Exception.AuthorizationQueryParametersError);
        var amzDate = Required("X-Amz-Date");
        if (!DateTimeOffset.TryParseExact(amzDate, AmzDateFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
            throw S3Exception.AuthorizationQueryParametersError("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
        if (scope.Date != amzDate[..8])
            throw S3Exception.AuthorizationQueryParametersError($"The credential's date {scope.Date} is not the request's date {amzDate[..8]}.");
        if (!int.TryParse(Required("X-Amz-Expires"), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1)
            throw S3Exception.AuthorizationQueryParametersError("X-Amz-Expires must be a whole number of seconds, at least 1.");
        var expires = TimeSpan.FromSeconds(seconds);
        if (expires > MaxExpiry)
            throw S3Exception.AuthorizationQueryParametersError("X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds.");
        if (time - now > MaxSkew) throw S3Exception.AccessDenied("Request is not valid yet.");
        if (now > time + expires) throw S3Exception.ExpiredToken("Request has expired");
        var payload = query["X-Amz-Content-Sha256"].ToString() is { Length: > 0 } p ? p : UnsignedPayload;
        return new SigV4Claim(scope, SplitHeaders(Required("X-Amz-SignedHeaders"), S3Exception.AuthorizationQueryParametersError),
            Required("X-Amz-Signature"), amzDate, time, payload, Presigned: true, expires);
    }

    private static SigV4Scope ParseScope(string credential, Func<string, S3Exception> error)
    {
        var parts = credential.Split('/');
        if (parts.Length != 5 || parts[0].Length == 0 || parts[4] != "aws4_request" || parts[1].Length != 8 || !parts[1].All(char.IsAsciiDigit))
            throw error($"The credential '{Short(credential)}' is not ACCESSKEY/yyyyMMdd/REGION/s3/aws4_request.");
        if (parts[3] != "s3") throw error($"The credential is scoped to the service '{Short(parts[3])}': it must be s3.");
        return new SigV4Scope(parts[0], parts[1], parts[2], parts[3]);
    }

    private static List<string> SplitHeaders(string value, Func<string, S3Exception> error)
    {
        var names = value.Split(';').ToList();
        if (names.Any(n => n.Length == 0 || n != n.ToLowerInvariant()))
            throw error("SignedHeaders must be lowercase header names separated by ';'.");
        if (!names.Contains("host")) throw error("SignedHeaders must include host.");
        return names;
    }

    public static byte[] SigningKey(string secret, SigV4Scope scope)
    {
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), scope.Date);
        key = Hmac(key, scope.Region);
        key = Hmac(key, scope.Service);
        return Hmac(key, "aws4_request");
    }

    /// <summary>
    /// Throws SignatureDoesNotMatch unless the claim's signature is the request's. The path is tried in the form AWS
    /// signers produce (each byte outside A-Za-z0-9-._~/ percent-encoded) and, failing that, exactly as it came on the
    /// wire: clients differ in what they encode, and either is what the client signed.
    /// </summary>
    public static void Verify(SigV4Claim claim, HttpRequest request, byte[] signingKey)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget is { Length: > 0 } target && target[0] == '/'
            ? target
            : request.PathBase + request.Path + request.QueryString;
        var question = raw.IndexOf('?');
        var rawPath = question < 0 ? raw : raw[..question];
        var rawQuery = question < 0 ? "" : raw[(question + 1)..];
        var query = CanonicalQuery(rawQuery, claim.Presigned);
        var headers = CanonicalHeaders(request, claim.SignedHeaders);
        var signedHeaders = string.Join(';', claim.SignedHeaders);
        var payload = claim.Presigned ? claim.PayloadHash : request.Headers["x-amz-content-sha256"].ToString();

        string decodedPath;
        try { decodedPath = Uri.UnescapeDataString(rawPath); }
        catch (UriFormatException) { throw S3Exception.SignatureDoesNotMatch(); }
        var expected = Encoding.ASCII.GetBytes(claim.Signature);
        foreach (var path in new[] { Encode(decodedPath, keepSlash: true), rawPath }.Distinct(StringComparer.Ordinal))
        {
            var canonical = $"{request.Method}\n{path}\n{query}\n{headers}\n{signedHeaders}\n{payload}";
            var stringToSign = $"{Algorithm}\n{claim.AmzDate}\n{claim.Scope.Text}\n{Sha256Hex(canonical)}";
            var actual = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(Hmac(signingKey, stringToSign)));
            if (CryptographicOperations.FixedTimeEquals(actual, expected)) return;
        }
        throw S3Exception.SignatureDoesNotMatch();
    }

    /// <summary>Each parameter decoded, then encoded the AWS way (everything outside A-Za-z0-9-._~), sorted by name then value.</summary>
    private static string CanonicalQuery(string rawQuery, bool presigned)
    {
        if (rawQuery.Length == 0) return "";
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in rawQuery.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = part.IndexOf('=');
            var name = Decode(equals < 0 ? part : part[..equals]);
            var value = equals < 0 ? "" : Decode(part[(equals + 1)..]);
            if (presigned && name == "X-Amz-Signature") continue;
            pairs.Add((Encode(name, keepSlash: false), Encode(value, keepSlash: false)));
        }
        pairs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var c and not 0 ? c : string.CompareOrdinal(a.Value, b.Value));
        return string.Join('&', pairs.Select(p => p.Name + "=" + p.Value));
    }

    private static string Decode(string value)
    {
        try { return Uri.UnescapeDataString(value); }
        catch (UriFormatException) { throw S3Exception.SignatureDoesNotMatch(); }
    }

    private static string CanonicalHeaders(HttpRequest request, IReadOnlyList<string> names)
    {
        var builder = new StringBuilder();
        foreach (var name in names)
        {
            var values = name == "host" ? request.Host.Value ?? "" : string.Join(',', request.Headers[name].Select(v => Collapse(v ?? "")));
            builder.Append(name).Append(':').Append(Collapse(values)).Append('\n');
        }
        return builder.ToString();
    }

    /// <summary>Trimmed, with each run of spaces inside made one (as the signers do).</summary>
    private static string Collapse(string value)
    {
        var trimmed = value.Trim();
        if (!trimmed.Contains("  ", StringComparison.Ordinal)) return trimmed;
        var builder = new StringBuilder(trimmed.Length);
        foreach (var c in trimmed)
            if (c != ' ' || builder.Length == 0 || builder[^1] != ' ') builder.Append(c);
        return builder.ToString();
    }

    /// <summary>AWS's URI encoding: UTF-8 bytes, A-Za-z0-9-._~ as they are (and '/' in paths), the rest %XX in upper case.</summary>
    public static string Encode(string value, bool keepSlash)
    {
        var builder = new StringBuilder(value.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~' || (keepSlash && c == '/')) builder.Append(c);
            else builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return builder.ToString();
    }

    internal static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    internal static string Sha256Hex(string data) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(data)));

    private static string Short(string value) => value.Length > 100 ? value[..100] + "…" : value;
}
