using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Dfs.Gateway.S3.Signing;

/// <summary>
/// AWS Signature Version 4 as S3 checks it: the claim a request makes (Authorization header or presigned query), the
/// signing key, and the signature over the canonical request. Only AWS4-HMAC-SHA256; SigV2 and SigV4A are refused.
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string StreamingPayload = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    public const string StreamingPayloadTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    public const string StreamingUnsignedPayloadTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
    /// <summary>Hex SHA-256 of nothing: the payload hash of an empty body, and the fixed line of every chunk's string to sign.</summary>
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>How far a header-signed request's time may be from ours (S3's 15 minutes), and the future slack of a presigned URL.</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(15);
    /// <summary>The longest X-Amz-Expires S3 accepts: 7 days.</summary>
    public static readonly TimeSpan MaxPresignedExpiry = TimeSpan.FromDays(7);

    internal const string TimeFormat = "yyyyMMdd'T'HHmmss'Z'";
    private const string DateFormat = "yyyyMMdd";
    private const string AmzDateHeader = "x-amz-date";
    private const string ContentSha256Header = "x-amz-content-sha256";
    private const string SecurityTokenHeader = "x-amz-security-token";
    private const string SignatureParameter = "X-Amz-Signature";
    private const string CredentialShape = "expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".";

    /// <summary>
    /// The claim the request makes; null when it carries no AWS authentication at all (anonymous). Throws
    /// <see cref="S3Exception"/> for a malformed claim, an expired presigned URL (X-Amz-Expires honoured, at most 7 days) or one
    /// dated more than 15 minutes ahead (AccessDenied), a header-signed request more than 15 minutes from
    /// <paramref name="now"/> (RequestTimeTooSkewed), SigV2 ("AWS AKID:sig" or AWSAccessKeyId/Signature query), SigV4A, and
    /// session tokens (Dfs issues none, so a token can only be a mistake: InvalidToken rather than silently ignored).
    /// </summary>
    public static SigV4Claim? Parse(HttpRequest request, DateTimeOffset now)
    {
        var authorization = request.Headers.Authorization;
        if (authorization.Count > 1)
            throw S3Exception.InvalidArgument("Only one Authorization header may be given.");
        var header = authorization.Count == 1 && !string.IsNullOrWhiteSpace(authorization[0]) ? authorization[0]!.Trim() : null;

        var query = request.Query;
        var presigned = query.ContainsKey("X-Amz-Algorithm") || query.ContainsKey("X-Amz-Credential") || query.ContainsKey(SignatureParameter);
        if (header is not null && presigned)
            throw S3Exception.InvalidArgument("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified.");

        SigV4Claim claim;
        if (header is not null)
            claim = ParseHeader(request, header, now);
        else if (presigned)
            claim = ParseQuery(request, query, now);
        else if (query.ContainsKey("AWSAccessKeyId") && query.ContainsKey("Signature"))
            throw S3Exception.UnsupportedAuthorization("AWS Signature Version 2 presigned URLs are not accepted.");
        else
            return null;

        CheckSignedHeaders(claim, request);
        return claim;
    }

    /// <summary>kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request").</summary>
    public static byte[] SigningKey(string secret, SigV4Scope scope)
    {
        ArgumentNullException.ThrowIfNull(secret);
        ArgumentNullException.ThrowIfNull(scope);
        var secretBytes = Encoding.UTF8.GetBytes("AWS4" + secret);
        try
        {
            // Two buffers in turn: HMAC's key and output never overlap.
            Span<byte> even = stackalloc byte[32];
            Span<byte> odd = stackalloc byte[32];
            HmacUtf8(secretBytes, scope.Date, even);
            HmacUtf8(even, scope.Region, odd);
            HmacUtf8(odd, scope.Service, even);
            HmacUtf8(even, "aws4_request", odd);
            return odd.ToArray();
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secretBytes);
        }
    }

    /// <summary>
    /// Throws SignatureDoesNotMatch unless the claim's signature is the one the request's canonical form gives under
    /// <paramref name="signingKey"/> (constant-time compare). Also refuses claims that do not sign <c>host</c> and requests
    /// with x-amz-* headers that were not signed (S3's HeadersNotSigned), as S3 does.
    /// </summary>
    /// <remarks>
    /// S3 neither normalises nor double-encodes the path, but clients differ in which characters they percent-encode. So,
    /// like S3, the path and the query are first re-encoded from their decoded form by the AWS rule (every byte but
    /// A-Za-z0-9-._~, and '/' in the path, as %XX); if that does not match, the raw form as sent on the wire is tried too.
    /// </remarks>
    public static void Verify(SigV4Claim claim, HttpRequest request, byte[] signingKey)
    {
        ArgumentNullException.ThrowIfNull(claim);
        ArgumentNullException.ThrowIfNull(signingKey);
        CheckSignedHeaders(claim, request);

        Span<byte> claimed = stackalloc byte[32];
        if (!TryDecodeHex(claim.Signature, claimed))
            throw S3Exception.SignatureDoesNotMatch();

        var (rawPath, rawQuery) = RawTarget(request);
        var paths = Candidates(AwsEncodedPath(rawPath), rawPath.Length == 0 ? "/" : rawPath);
        var queries = Candidates(CanonicalQuery(rawQuery, claim.Presigned, decode: true), CanonicalQuery(rawQuery, claim.Presigned, decode: false));
        var headers = CanonicalHeaders(claim.SignedHeaders, request.Headers);
        var signedHeaders = string.Join(';', claim.SignedHeaders);
        var prefix = $"{Algorithm}\n{claim.RequestTime.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture)}\n{claim.Scope.CredentialScope}\n";

        var matched = false;
        Span<byte> computed = stackalloc byte[32];
        foreach (var path in paths)
        {
            foreach (var query in queries)
            {
                var canonical = string.Concat(request.Method, "\n", path, "\n", query, "\n", headers, "\n", signedHeaders, "\n", claim.PayloadHash);
                Sign(signingKey, prefix, canonical, computed);
                // Every candidate is computed and compared, so the time taken says nothing about which one matched.
                matched |= CryptographicOperations.FixedTimeEquals(computed, claimed);
            }
        }
        if (!matched)
            throw S3Exception.SignatureDoesNotMatch();
    }

    /// <summary>The canonical request S3 would build for the first (AWS-encoded) candidate: for logs and for tests.</summary>
    internal static string CanonicalRequest(SigV4Claim claim, HttpRequest request)
    {
        var (rawPath, rawQuery) = RawTarget(request);
        return string.Concat(request.Method, "\n", AwsEncodedPath(rawPath), "\n", CanonicalQuery(rawQuery, claim.Presigned, decode: true), "\n",
            CanonicalHeaders(claim.SignedHeaders, request.Headers), "\n", string.Join(';', claim.SignedHeaders), "\n", claim.PayloadHash);
    }

    private static SigV4Claim ParseHeader(HttpRequest request, string header, DateTimeOffset now)
    {
        if (header.StartsWith("AWS ", StringComparison.Ordinal))
            throw S3Exception.UnsupportedAuthorization("AWS Signature Version 2 (\"AWS AKID:signature\") is not accepted.");
        if (header.StartsWith("AWS4-ECDSA-P256-SHA256", StringComparison.Ordinal))
            throw S3Exception.UnsupportedAuthorization("SigV4A (AWS4-ECDSA-P256-SHA256) is not accepted.");
        if (!header.StartsWith(Algorithm, StringComparison.Ordinal) || (header.Length > Algorithm.Length && header[Algorithm.Length] != ' '))
        {
            if (header.StartsWith("AWS4-", StringComparison.Ordinal))
                throw Malformed("the algorithm must be AWS4-HMAC-SHA256.");
            throw S3Exception.InvalidArgument("Unsupported Authorization Type");
        }

        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in header[Algorithm.Length..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            if (eq <= 0)
                throw Malformed($"the authorization component \"{part}\" is malformed.");
            var value = part[(eq + 1)..].Trim();
            switch (part[..eq].Trim())
            {
                case "Credential" when credential is null: credential = value; break;
                case "SignedHeaders" when signedHeaders is null: signedHeaders = value; break;
                case "Signature" when signature is null: signature = value; break;
                default: throw Malformed($"the authorization component \"{part}\" is unknown or repeated.");
            }
        }
        if (credential is null || signedHeaders is null || signature is null)
            throw Malformed("the authorization header requires three components: Credential, SignedHeaders, and Signature.");

        var scope = ParseCredential(credential, Malformed);
        var headers = ParseSignedHeaders(signedHeaders, Malformed);
        if (!IsHex64(signature))
            throw Malformed("the Signature must be 64 hexadecimal characters.");

        var time = HeaderTime(request);
        if (scope.Date != time.UtcDateTime.ToString(DateFormat, CultureInfo.InvariantCulture))
            throw Malformed($"Invalid credential date \"{scope.Date}\". This date is not the same as X-Amz-Date: \"{time.UtcDateTime.ToString(DateFormat, CultureInfo.InvariantCulture)}\".");
        if (!string.IsNullOrEmpty(request.Headers[SecurityTokenHeader]))
            throw SessionToken();

        var payload = Single(request.Headers[ContentSha256Header]);
        if (payload is null)
            throw S3Exception.InvalidRequest("Missing required header for this request: x-amz-content-sha256");
        CheckPayloadHash(payload);

        if ((time - now).Duration() > MaxSkew)
            throw S3Exception.RequestTimeTooSkewed();
        return new SigV4Claim(scope, headers, signature, time, payload, Presigned: false, Expires: null);

        static S3Exception Malformed(string message) => S3Exception.AuthorizationHeaderMalformed("The authorization header is malformed; " + message);
    }

    private static SigV4Claim ParseQuery(HttpRequest request, IQueryCollection query, DateTimeOffset now)
    {
        var algorithm = Single(query["X-Amz-Algorithm"]);
        if (algorithm == "AWS4-ECDSA-P256-SHA256")
            throw S3Exception.UnsupportedAuthorization("SigV4A (AWS4-ECDSA-P256-SHA256) is not accepted.");
        var credential = Single(query["X-Amz-Credential"]);
        var date = Single(query["X-Amz-Date"]);
        var expires = Single(query["X-Amz-Expires"]);
        var signedHeaders = Single(query["X-Amz-SignedHeaders"]);
        var signature = Single(query[SignatureParameter]);
        if (algorithm is null || credential is null || date is null || expires is null || signedHeaders is null || signature is null)
            throw Malformed("Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.");
        if (algorithm != Algorithm)
            throw Malformed("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\".");

        var scope = ParseCredential(credential, message => Malformed("Error parsing the X-Amz-Credential parameter; " + message));
        var headers = ParseSignedHeaders(signedHeaders, message => Malformed("Error parsing the X-Amz-SignedHeaders parameter; " + message));
        if (!IsHex64(signature))
            throw Malformed("X-Amz-Signature must be 64 hexadecimal characters.");
        if (!TryParseAmzDate(date, out var time))
            throw Malformed("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".");
        if (expires.Length is 0 or > 7 || !expires.All(char.IsAsciiDigit))
            throw Malformed("X-Amz-Expires should be a number of seconds.");
        var lifetime = TimeSpan.FromSeconds(int.Parse(expires, NumberStyles.None, CultureInfo.InvariantCulture));
        if (lifetime > MaxPresignedExpiry)
            throw Malformed("X-Amz-Expires must be less than a week (in seconds) that is 604800.");
        if (scope.Date != date[..8])
            throw Malformed($"Invalid credential date \"{scope.Date}\". This date is not the same as X-Amz-Date: \"{date[..8]}\".");
        if (query.ContainsKey("X-Amz-Security-Token") || !string.IsNullOrEmpty(request.Headers[SecurityTokenHeader]))
            throw SessionToken();

        var payload = UnsignedPayload;
        if (query.ContainsKey("X-Amz-Content-Sha256"))
        {
            payload = Single(query["X-Amz-Content-Sha256"]) ?? throw Malformed("X-Amz-Content-Sha256 may be given once.");
            CheckPayloadHash(payload);
        }

        if (time - now > MaxSkew)
            throw S3Exception.AccessDenied("Request is not valid yet");
        if (now > time + lifetime)
            throw S3Exception.ExpiredToken();
        return new SigV4Claim(scope, headers, signature, time, payload, Presigned: true, lifetime);

        static S3Exception Malformed(string message) => S3Exception.AuthorizationQueryParametersError(message);
    }

    private static SigV4Scope ParseCredential(string credential, Func<string, S3Exception> malformed)
    {
        var parts = credential.Split('/');
        if (parts.Length != 5 || parts.Any(p => p.Length == 0))
            throw malformed("the Credential is mal-formed; " + CredentialShape);
        if (parts[1].Length != 8 || !DateTime.TryParseExact(parts[1], DateFormat, CultureInfo.InvariantCulture, DateTimeStyles.None, out _))
            throw malformed($"incorrect date format \"{parts[1]}\". This date in the credential must be in the format \"yyyyMMdd\".");
        if (parts[3] != "s3")
            throw malformed($"incorrect service \"{parts[3]}\". This endpoint belongs to \"s3\".");
        if (parts[4] != "aws4_request")
            throw malformed($"incorrect terminal \"{parts[4]}\". This endpoint uses \"aws4_request\".");
        return new SigV4Scope(parts[0], parts[1], parts[2], parts[3]);
    }

    private static string[] ParseSignedHeaders(string value, Func<string, S3Exception> malformed)
    {
        var names = value.Split(';');
        foreach (var name in names)
        {
            // Names are lowercase tokens: an uppercase or empty one cannot be what the client put in its canonical request.
            if (name.Length == 0 || name.Any(c => c <= ' ' || c >= 0x7F || char.IsAsciiLetterUpper(c) || c == ':'))
                throw malformed($"the signed header \"{name}\" is not a lowercase header name.");
        }
        if (!names.Contains("host"))
            throw malformed("the host header must be signed.");
        return names;
    }

    private static DateTimeOffset HeaderTime(HttpRequest request)
    {
        var amzDate = request.Headers[AmzDateHeader];
        if (amzDate.Count > 0)
        {
            if (Single(amzDate) is { } value && TryParseAmzDate(value, out var time))
                return time;
        }
        else if (Single(request.Headers.Date) is { } date
            && DateTimeOffset.TryParseExact(date, "r", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }
        throw S3Exception.AccessDenied("AWS authentication requires a valid Date or x-amz-date header");
    }

    private static bool TryParseAmzDate(string value, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(value, TimeFormat, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    private static void CheckPayloadHash(string value)
    {
        switch (value)
        {
            case UnsignedPayload or StreamingPayload or StreamingPayloadTrailer or StreamingUnsignedPayloadTrailer:
                return;
            case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD" or "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
                throw S3Exception.UnsupportedAuthorization("SigV4A streaming payloads are not accepted.");
            default:
                if (!IsHex64(value))
                    throw S3Exception.InvalidArgument("x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.");
                return;
        }
    }

    private static S3Exception SessionToken() =>
        S3Exception.InvalidToken("The provided token is malformed or otherwise invalid. Dfs issues no session tokens: sign with an access key and its secret alone.");

    /// <summary>S3's rules on what must be signed: host always, and every x-amz-* header the request carries.</summary>
    private static void CheckSignedHeaders(SigV4Claim claim, HttpRequest request)
    {
        if (!claim.SignedHeaders.Contains("host"))
            throw claim.Presigned
                ? S3Exception.AuthorizationQueryParametersError("Error parsing the X-Amz-SignedHeaders parameter; the host header must be signed.")
                : S3Exception.AuthorizationHeaderMalformed("The authorization header is malformed; the host header must be signed.");
        List<string>? unsigned = null;
        foreach (var (name, _) in request.Headers)
        {
            if (name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase) && !claim.SignedHeaders.Contains(name.ToLowerInvariant()))
                (unsigned ??= []).Add(name.ToLowerInvariant());
        }
        if (unsigned is not null)
            throw S3Exception.HeadersNotSigned(unsigned);
    }

    private static string? Single(StringValues values) => values.Count == 1 ? values[0] : null;

    private static void HmacUtf8(ReadOnlySpan<byte> key, string data, Span<byte> destination)
    {
        Span<byte> buffer = stackalloc byte[256];
        var bytes = Encoding.UTF8.GetMaxByteCount(data.Length) <= buffer.Length ? buffer[..Encoding.UTF8.GetBytes(data, buffer)] : Encoding.UTF8.GetBytes(data);
        HMACSHA256.HashData(key, bytes, destination);
    }

    /// <summary>signature = HMAC(key, prefix + hex(SHA-256(canonical))), where prefix is algorithm, time and scope lines.</summary>
    private static void Sign(byte[] key, string prefix, string canonical, Span<byte> signature)
    {
        var canonicalBytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(canonical.Length));
        var stringToSign = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(prefix.Length) + 64);
        try
        {
            Span<byte> hash = stackalloc byte[32];
            SHA256.HashData(canonicalBytes.AsSpan(0, Encoding.UTF8.GetBytes(canonical, canonicalBytes)), hash);
            var length = Encoding.UTF8.GetBytes(prefix, stringToSign);
            length += WriteHex(hash, stringToSign.AsSpan(length));
            HMACSHA256.HashData(key, stringToSign.AsSpan(0, length), signature);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(canonicalBytes);
            ArrayPool<byte>.Shared.Return(stringToSign);
        }
    }

    /// <summary>Lowercase hex of <paramref name="bytes"/> as ASCII into <paramref name="destination"/>; returns the length written.</summary>
    internal static int WriteHex(ReadOnlySpan<byte> bytes, Span<byte> destination)
    {
        const string digits = "0123456789abcdef";
        for (var i = 0; i < bytes.Length; i++)
        {
            destination[2 * i] = (byte)digits[bytes[i] >> 4];
            destination[2 * i + 1] = (byte)digits[bytes[i] & 0xF];
        }
        return bytes.Length * 2;
    }

    internal static bool IsHex64(string value) => value.Length == 64 && value.All(char.IsAsciiHexDigit);

    internal static bool TryDecodeHex(ReadOnlySpan<char> hex, Span<byte> destination) =>
        hex.Length == destination.Length * 2 && Convert.FromHexString(hex, destination, out _, out var written) == OperationStatus.Done && written == destination.Length;

    // ---- Canonical request parts ----

    /// <summary>The path and the query exactly as the client sent them on the wire.</summary>
    private static (string Path, string Query) RawTarget(HttpRequest request)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw))
        {
            // No server in front (a test or a custom host): rebuild the target from the decoded path and the query as received.
            var path = request.PathBase.Add(request.Path).ToUriComponent();
            return (path, request.QueryString.HasValue ? request.QueryString.Value![1..] : "");
        }
        // An absolute-form target (through a proxy): the path starts after the authority.
        if (raw.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || raw.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            var slash = raw.IndexOf('/', raw.IndexOf("//", StringComparison.Ordinal) + 2);
            raw = slash < 0 ? "/" : raw[slash..];
        }
        var fragment = raw.IndexOf('#');
        if (fragment >= 0)
            raw = raw[..fragment];
        var question = raw.IndexOf('?');
        return question < 0 ? (raw, "") : (raw[..question], raw[(question + 1)..]);
    }

    private static string[] Candidates(string first, string second) => first == second ? [first] : [first, second];

    private static string AwsEncodedPath(string rawPath)
    {
        if (rawPath.Length == 0)
            return "/";
        var builder = new StringBuilder(rawPath.Length + 16);
        AppendAwsEncoded(builder, rawPath, decode: true, keepSlash: true);
        return builder.ToString();
    }

    /// <summary>
    /// Parameters sorted by encoded name then value and joined with '&amp;'; a parameter without '=' has an empty value;
    /// X-Amz-Signature is left out of a presigned request's. With <paramref name="decode"/>, each name and value is
    /// percent-decoded and re-encoded by the AWS rule ('/' encoded too); without, it is kept as sent.
    /// </summary>
    private static string CanonicalQuery(string rawQuery, bool presigned, bool decode)
    {
        if (rawQuery.Length == 0)
            return "";
        var pairs = new List<(string Name, string Value)>();
        var builder = new StringBuilder();
        foreach (var parameter in rawQuery.Split('&'))
        {
            if (parameter.Length == 0)
                continue;
            var eq = parameter.IndexOf('=');
            var (name, value) = eq < 0 ? (parameter, "") : (parameter[..eq], parameter[(eq + 1)..]);
            if (decode)
            {
                builder.Clear();
                name = AppendAwsEncoded(builder, name, decode: true, keepSlash: false).ToString();
                builder.Clear();
                value = AppendAwsEncoded(builder, value, decode: true, keepSlash: false).ToString();
            }
            if (presigned && name == SignatureParameter)
                continue;
            pairs.Add((name, value));
        }
        pairs.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name) is var byName and not 0 ? byName : string.CompareOrdinal(a.Value, b.Value));
        builder.Clear();
        foreach (var (name, value) in pairs)
            builder.Append(builder.Length == 0 ? "" : "&").Append(name).Append('=').Append(value);
        return builder.ToString();
    }

    /// <summary>
    /// Appends <paramref name="text"/>'s UTF-8 bytes, percent-decoded first when <paramref name="decode"/> ('+' stays '+'; a '%'
    /// not followed by two hex digits stays itself), with every byte but A-Za-z0-9-._~ (and '/' when kept) as %XX.
    /// </summary>
    internal static StringBuilder AppendAwsEncoded(StringBuilder builder, string text, bool decode, bool keepSlash)
    {
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        var rented = ArrayPool<byte>.Shared.Rent(max);
        try
        {
            var bytes = rented.AsSpan(0, Encoding.UTF8.GetBytes(text, rented));
            for (var i = 0; i < bytes.Length; i++)
            {
                var b = bytes[i];
                if (decode && b == '%' && i + 2 < bytes.Length && IsHexByte(bytes[i + 1]) && IsHexByte(bytes[i + 2]))
                {
                    b = (byte)(HexValue(bytes[i + 1]) << 4 | HexValue(bytes[i + 2]));
                    i += 2;
                }
                if (char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~' || (keepSlash && b == '/'))
                    builder.Append((char)b);
                else
                    builder.Append('%').Append("0123456789ABCDEF"[b >> 4]).Append("0123456789ABCDEF"[b & 0xF]);
            }
            return builder;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }

        static bool IsHexByte(byte b) => char.IsAsciiHexDigit((char)b);
        static int HexValue(byte b) => b <= '9' ? b - '0' : (b | 0x20) - 'a' + 10;
    }

    /// <summary>Each signed header as "name:value\n": values trimmed, inner runs of spaces collapsed, repeated headers joined by ','.</summary>
    private static string CanonicalHeaders(IReadOnlyList<string> signedHeaders, IHeaderDictionary headers)
    {
        var builder = new StringBuilder(256);
        foreach (var name in signedHeaders)
        {
            builder.Append(name).Append(':');
            var values = headers[name];
            for (var i = 0; i < values.Count; i++)
            {
                if (i > 0)
                    builder.Append(',');
                AppendTrimmedCollapsed(builder, values[i]);
            }
            builder.Append('\n');
        }
        return builder.ToString();
    }

    private static void AppendTrimmedCollapsed(StringBuilder builder, string? value)
    {
        var span = value.AsSpan().Trim(" \t");
        var lastWasSpace = false;
        foreach (var c in span)
        {
            if (c == ' ' && lastWasSpace)
                continue;
            lastWasSpace = c == ' ';
            builder.Append(c);
        }
    }
}
