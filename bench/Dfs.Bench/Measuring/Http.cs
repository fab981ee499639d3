using System.Diagnostics;
using System.Net.Http.Headers;

namespace Dfs.Bench.Measuring;

/// <summary>Plain HTTP transfers for the baselines (nginx), timed the same way as the Dfs ones.</summary>
public static class Http
{
    public static HttpClient CreateClient(Uri baseAddress, out SocketsHttpHandler handler)
    {
        handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            UseProxy = false,
            AutomaticDecompression = System.Net.DecompressionMethods.None,
        };
        return new HttpClient(handler, disposeHandler: true) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
    }

    public static async Task PutAsync(HttpClient http, string path, HttpContent content, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, path) { Content = content };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"PUT {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
    }

    public static StreamContent StreamOf(Stream stream, long length)
    {
        var content = new StreamContent(stream, 1 << 16);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        content.Headers.ContentLength = length;
        return content;
    }

    /// <summary>GETs and drains a body; returns its length, SHA-256 when asked, and the seconds it took.</summary>
    public static async Task<(long Bytes, string? Sha256, double Seconds)> GetAsync(HttpClient http, string path, bool hash, Action<long>? progress, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode) throw new HttpRequestException($"GET {path}: {(int)response.StatusCode}");
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        var (bytes, sha) = await TestData.DrainAsync(body, hash, progress, ct);
        return (bytes, sha, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
