using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Dfs.Gateway.S3;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.Gateway.Tests.S3;

/// <summary>
/// Requests for the SigV4 tests: fake <see cref="HttpRequest"/>s as Kestrel would present them (raw target included), and a
/// small signer of the tests' own, written from AWS's documentation rather than from the code under test.
/// </summary>
internal static class SigningKit
{
    /// <summary>The example credentials of AWS's SigV4 documentation.</summary>
    public const string AccessKey = "AKIAIOSFODNN7EXAMPLE";
    public const string Secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    public const string Region = "us-east-1";
    /// <summary>The time of every AWS example: Fri, 24 May 2013 00:00:00 GMT.</summary>
    public static readonly DateTimeOffset ExampleTime = new(2013, 5, 24, 0, 0, 0, TimeSpan.Zero);
    public const string EmptySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A request as the server sees it: <paramref name="target"/> is the raw request target, as sent on the wire.</summary>
    public static HttpRequest Request(string method, string target, IEnumerable<(string Name, string Value)> headers, byte[]? body = null)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = method;
        var question = target.IndexOf('?');
        request.Path = PathString.FromUriComponent(question < 0 ? target : target[..question]);
        request.QueryString = question < 0 ? QueryString.Empty : new QueryString(target[question..]);
        context.Features.Get<IHttpRequestFeature>()!.RawTarget = target;
        foreach (var (name, value) in headers)
            request.Headers.Append(name, value);
        request.Body = new MemoryStream(body ?? []);
        return request;
    }

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);

    public static string Scope(DateTimeOffset time, string region = Region) => $"{time.UtcDateTime:yyyyMMdd}/{region}/s3/aws4_request";

    public static byte[] Key(string secret, DateTimeOffset time, string region = Region)
    {
        var key = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), time.UtcDateTime.ToString("yyyyMMdd", CultureInfo.InvariantCulture));
        foreach (var part in new[] { region, "s3", "aws4_request" })
            key = Hmac(key, part);
        return key;
    }

    public static byte[] Hmac(byte[] key, string data) => HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(data));

    public static string Hex(byte[] bytes) => Convert.ToHexStringLower(bytes);

    public static string Sha256Hex(byte[] data) => Hex(SHA256.HashData(data));

    public static string Sha256Hex(string text) => Sha256Hex(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// A header-signed request: every header given is signed (plus host), the canonical URI and query are
    /// <paramref name="target"/>'s (the tests give targets already in AWS's encoding).
    /// </summary>
    public static HttpRequest Signed(string method, string target, string payloadHash, IEnumerable<(string Name, string Value)> headers, byte[]? body = null,
        DateTimeOffset? time = null, string secret = Secret, string host = "localhost:9000")
    {
        var at = time ?? ExampleTime;
        var all = new List<(string Name, string Value)> { ("Host", host), ("x-amz-date", Time(at)), ("x-amz-content-sha256", payloadHash) };
        all.AddRange(headers);
        var signature = Sign(method, target, payloadHash, all, at, secret, out var signedHeaders);
        all.Add(("Authorization", $"AWS4-HMAC-SHA256 Credential={AccessKey}/{Scope(at)}, SignedHeaders={signedHeaders}, Signature={signature}"));
        return Request(method, target, all, body);
    }

    public static string Sign(string method, string target, string payloadHash, IEnumerable<(string Name, string Value)> headers, DateTimeOffset time, string secret, out string signedHeaders)
    {
        var question = target.IndexOf('?');
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? "" : string.Join('&', target[(question + 1)..].Split('&').Select(p => p.Contains('=') ? p : p + "=").Order(StringComparer.Ordinal));
        var canonicalHeaders = headers.GroupBy(h => h.Name.ToLowerInvariant()).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
        signedHeaders = string.Join(';', canonicalHeaders.Select(g => g.Key));
        var canonical = $"{method}\n{path}\n{query}\n{string.Concat(canonicalHeaders.Select(g => $"{g.Key}:{string.Join(',', g.Select(h => h.Value.Trim()))}\n"))}\n{signedHeaders}\n{payloadHash}";
        var stringToSign = $"AWS4-HMAC-SHA256\n{Time(time)}\n{Scope(time)}\n{Sha256Hex(canonical)}";
        return Hex(HMACSHA256.HashData(Key(secret, time), Encoding.UTF8.GetBytes(stringToSign)));
    }

    /// <summary>The signer of a streaming body: the key, the request's time and scope, and the seed (the request's signature).</summary>
    public sealed class ChunkSigner(byte[] key, DateTimeOffset time, string seed)
    {
        private string previous = seed;

        public string SignChunk(ReadOnlySpan<byte> data) => previous = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(
            $"AWS4-HMAC-SHA256-PAYLOAD\n{Time(time)}\n{Scope(time)}\n{previous}\n{EmptySha256}\n{Hex(SHA256.HashData(data))}")));

        public string SignTrailer(string lines) => previous = Hex(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(
            $"AWS4-HMAC-SHA256-TRAILER\n{Time(time)}\n{Scope(time)}\n{previous}\n{Sha256Hex(lines)}")));
    }

    /// <summary>
    /// An aws-chunked body: chunks of <paramref name="chunkSize"/> (signed when <paramref name="signer"/> is given), the 0-size
    /// chunk, then the trailer lines (with x-amz-trailer-signature when signed and <paramref name="trailer"/> mode is on) and CRLF.
    /// </summary>
    public static byte[] Chunked(byte[] data, int chunkSize, ChunkSigner? signer, bool trailer = false, params (string Name, string Value)[] trailers)
    {
        var body = new MemoryStream();
        for (var offset = 0; ; offset += chunkSize)
        {
            var chunk = data.AsSpan(Math.Min(offset, data.Length), Math.Max(0, Math.Min(chunkSize, data.Length - offset)));
            Write(body, chunk.Length.ToString("x", CultureInfo.InvariantCulture) + (signer is null ? "" : ";chunk-signature=" + signer.SignChunk(chunk)) + "\r\n");
            if (chunk.Length == 0)
                break;
            body.Write(chunk);
            Write(body, "\r\n");
        }
        var lines = string.Concat(trailers.Select(t => $"{t.Name}:{t.Value}\n"));
        foreach (var (name, value) in trailers)
            Write(body, $"{name}:{value}\r\n");
        if (trailer && signer is not null)
            Write(body, $"x-amz-trailer-signature:{signer.SignTrailer(lines)}\r\n");
        Write(body, "\r\n");
        return body.ToArray();
    }

    public static void Write(Stream stream, string text) => stream.Write(Encoding.ASCII.GetBytes(text));

    /// <summary>Reads <paramref name="stream"/> to its end in reads of <paramref name="readSize"/> bytes.</summary>
    public static async Task<byte[]> ReadAllAsync(Stream stream, int readSize = 81920)
    {
        var result = new MemoryStream();
        var buffer = new byte[readSize];
        int read;
        while ((read = await stream.ReadAsync(buffer, Ct)) > 0)
            result.Write(buffer, 0, read);
        return result.ToArray();
    }

    /// <summary>One read, for asserting what it throws.</summary>
    public static async Task<int> ReadOnceAsync(Stream stream, byte[] buffer) => await stream.ReadAsync(buffer, Ct);

    public static async Task<S3Exception> FailsAsync(string code, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<S3Exception>(action);
        Assert.Equal(code, e.Code);
        return e;
    }

    public static S3Exception Fails(string code, Action action)
    {
        var e = Assert.Throws<S3Exception>(action);
        Assert.Equal(code, e.Code);
        return e;
    }

    public static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);
}
