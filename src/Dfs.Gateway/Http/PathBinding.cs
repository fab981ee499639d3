using System.Text;
using Dfs.Contracts.Paths;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.Http;

internal static class PathBinding
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The path below <paramref name="routePrefix"/>, decoded from the raw request target: Kestrel's decoded
    /// path keeps %2F and invalid UTF-8 escapes as text and collapses dot segments, which would let a
    /// '/' hide inside a name or a '..' change the target silently. Decoding each segment ourselves sees
    /// exactly what the client sent.
    /// </summary>
    public static string FromRequest(HttpContext context, string routePrefix, string? routeValue)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (string.IsNullOrEmpty(raw)) return FromRoute(routeValue);
        var query = raw.IndexOf('?');
        if (query >= 0) raw = raw[..query];
        var prefix = context.Request.PathBase + routePrefix;
        if (!raw.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) return FromRoute(routeValue);
        var rest = raw[prefix.Length..].TrimStart('/');
        if (rest.EndsWith('/')) rest = rest[..^1];
        if (rest.Length == 0) return DfsPath.Root;

        var builder = new StringBuilder(rest.Length + 1);
        foreach (var segment in rest.Split('/'))
        {
            string name;
            try { name = StrictUtf8.GetString(PercentDecode(segment)); }
            catch (DecoderFallbackException) { throw DfsProblemException.BadRequest("Invalid path", "The path is not valid UTF-8 (check its percent-encoding)."); }
            if (name.Contains('/')) throw DfsProblemException.BadRequest("Invalid path", "A name cannot contain '/' (%2F).");
            builder.Append('/').Append(name);
        }
        if (!DfsPath.TryNormalize(builder.ToString(), out var normalized, out var error))
            throw DfsProblemException.BadRequest("Invalid path", error);
        return normalized;
    }

    /// <summary>Fallback when there is no raw target (in-memory test servers): the route value as routing decoded it.</summary>
    public static string FromRoute(string? routeValue)
    {
        var raw = routeValue ?? "";
        if (raw.Contains("%2F", StringComparison.OrdinalIgnoreCase))
            throw DfsProblemException.BadRequest("Invalid path", "A name cannot contain '/' (%2F).");
        if (raw.Length > 0 && raw[^1] == '/') raw = raw[..^1];
        if (!DfsPath.TryNormalize("/" + raw, out var normalized, out var error))
            throw DfsProblemException.BadRequest("Invalid path", error);
        return normalized;
    }

    public static string FromBody(string? value, string field)
    {
        if (!DfsPath.TryNormalize(value, out var normalized, out var error))
            throw DfsProblemException.BadRequest("Invalid path", $"{field}: {error}");
        return normalized;
    }

    private static byte[] PercentDecode(string segment)
    {
        var bytes = new List<byte>(segment.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < segment.Length; i++)
        {
            var c = segment[i];
            if (c == '%')
            {
                if (i + 2 >= segment.Length || !byte.TryParse(segment.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
                    throw DfsProblemException.BadRequest("Invalid path", "The path has a malformed percent-escape.");
                bytes.Add(b);
                i += 2;
            }
            else
            {
                // Raw targets are ASCII on the wire, but be exact if a server hands over other characters.
                var n = Encoding.UTF8.GetBytes(segment.AsSpan(i, char.IsHighSurrogate(c) && i + 1 < segment.Length ? 2 : 1), utf8);
                if (n > 1 && char.IsHighSurrogate(c)) i++;
                for (var k = 0; k < n; k++) bytes.Add(utf8[k]);
            }
        }
        return bytes.ToArray();
    }
}
