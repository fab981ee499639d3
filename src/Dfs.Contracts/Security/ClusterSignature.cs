using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Dfs.Contracts.Security;

/// <summary>What <see cref="ClusterSignature.Verify"/> found.</summary>
public enum ClusterSignatureStatus
{
    Valid,
    /// <summary>No <see cref="ClusterSignature.HeaderName"/> header.</summary>
    Missing,
    /// <summary>The header is not <c>t=&lt;unix seconds&gt;,s=&lt;64 hex&gt;</c>.</summary>
    Malformed,
    /// <summary>The timestamp is further than <see cref="ClusterSignature.MaxClockSkew"/> from now (either way).</summary>
    Expired,
    /// <summary>Signed with another secret, or for another method, path or time.</summary>
    Mismatch,
}

/// <summary>
/// The cluster's request signature: <c>X-Dfs-Cluster-Signature: t=&lt;unix seconds&gt;,s=&lt;hex HMAC-SHA256&gt;</c>
/// over <c>"&lt;METHOD&gt;\n&lt;path and query as sent&gt;\n&lt;t&gt;"</c>, keyed with the UTF-8 bytes of the cluster's secret.
/// The body is not signed: it is streamed, and a chunk's id is the hash of its bytes, so a replayed PUT cannot
/// store different bytes under an id. The timestamp bounds how long a captured signature can be replayed.
/// </summary>
public sealed class ClusterSignature
{
    public const string HeaderName = "X-Dfs-Cluster-Signature";

    /// <summary>How far a signature's timestamp may be from the verifier's clock, in the past or the future.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromSeconds(60);

    private const int MacBytes = 32;
    private readonly byte[] _key;

    public ClusterSignature(string secret)
    {
        if (string.IsNullOrEmpty(secret)) throw new ArgumentException("The cluster secret must not be empty.", nameof(secret));
        _key = Encoding.UTF8.GetBytes(secret);
    }

    /// <summary>The header value for a request.</summary>
    /// <param name="method">The HTTP method (any case; signed in upper case).</param>
    /// <param name="pathAndQuery">The request target exactly as it goes on the wire: <c>Uri.PathAndQuery</c> on the client.</param>
    public string Sign(string method, string pathAndQuery, DateTimeOffset now)
    {
        var t = now.ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"t={t},s={Convert.ToHexStringLower(Mac(method, pathAndQuery, t))}");
    }

    /// <summary>Checks a received header value against the request it came with; constant time on the MAC.</summary>
    /// <param name="pathAndQuery">The raw request target as received (IHttpRequestFeature.RawTarget on the server).</param>
    public ClusterSignatureStatus Verify(string? header, string method, string pathAndQuery, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(header)) return ClusterSignatureStatus.Missing;
        if (!TryParse(header, out var t, out var mac)) return ClusterSignatureStatus.Malformed;
        // Checked before the MAC so that a stale header costs no hashing; neither answer says anything about the secret.
        var age = now.ToUnixTimeSeconds() - t;
        if (age > MaxClockSkew.TotalSeconds || age < -MaxClockSkew.TotalSeconds) return ClusterSignatureStatus.Expired;
        return CryptographicOperations.FixedTimeEquals(mac, Mac(method, pathAndQuery, t))
            ? ClusterSignatureStatus.Valid
            : ClusterSignatureStatus.Mismatch;
    }

    private byte[] Mac(string method, string pathAndQuery, long t)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"{method.ToUpperInvariant()}\n{pathAndQuery}\n{t}");
        return HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(text));
    }

    private static bool TryParse(string header, out long t, out byte[] mac)
    {
        t = 0;
        mac = [];
        var comma = header.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0) return false;
        var timePart = header.AsSpan(0, comma).Trim();
        var macPart = header.AsSpan(comma + 1).Trim();
        if (!timePart.StartsWith("t=", StringComparison.Ordinal) || !macPart.StartsWith("s=", StringComparison.Ordinal)) return false;
        if (!long.TryParse(timePart[2..], NumberStyles.None, CultureInfo.InvariantCulture, out t)) return false;
        var hex = macPart[2..];
        if (hex.Length != 2 * MacBytes) return false;
        mac = new byte[MacBytes];
        return Convert.FromHexString(hex, mac, out _, out var written) == System.Buffers.OperationStatus.Done && written == MacBytes;
    }
}

/// <summary>
/// Signs every request it sends with the cluster's secret (see <see cref="ClusterSignature"/>), replacing any
/// signature already on it (a retried request is signed afresh).
/// </summary>
public sealed class ClusterSigningHandler : DelegatingHandler
{
    private readonly ClusterSignature _signature;
    private readonly TimeProvider _clock;

    public ClusterSigningHandler(string secret, TimeProvider? clock = null)
        : this(new ClusterSignature(secret), clock)
    {
    }

    public ClusterSigningHandler(ClusterSignature signature, TimeProvider? clock = null)
    {
        _signature = signature;
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>A signing handler over <paramref name="inner"/> (for HttpClients built by hand).</summary>
    public ClusterSigningHandler(string secret, HttpMessageHandler inner, TimeProvider? clock = null)
        : this(secret, clock) => InnerHandler = inner;

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Sign(request);
        return base.SendAsync(request, cancellationToken);
    }

    protected override HttpResponseMessage Send(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Sign(request);
        return base.Send(request, cancellationToken);
    }

    private void Sign(HttpRequestMessage request)
    {
        var uri = request.RequestUri ?? throw new InvalidOperationException("The request has no URI to sign.");
        if (!uri.IsAbsoluteUri) throw new InvalidOperationException($"Cannot sign the relative URI '{uri}': give the HttpClient a BaseAddress.");
        request.Headers.Remove(ClusterSignature.HeaderName);
        request.Headers.TryAddWithoutValidation(ClusterSignature.HeaderName,
            _signature.Sign(request.Method.Method, uri.PathAndQuery, _clock.GetUtcNow()));
    }
}
