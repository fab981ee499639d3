using System.Net.Http.Headers;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.Contracts.Clients;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Dfs.AppHost.Dashboard;

/// <summary>
/// The dashboard's way to the gateway: the application's own client for it (which knows how to trust the
/// gateway's certificate and how to authenticate), one per call since the gateway's url is only known once
/// it started; and the stream-through used for uploads and downloads.
/// </summary>
internal sealed class GatewayAccess(DfsApplication app)
{
    private static readonly TimeSpan JsonTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Why the gateway cannot be asked now, or null when it can.</summary>
    public string? Unavailable()
    {
        if (app.Find(ResourceNames.Gateway) is not { } gateway) return "This application has no gateway.";
        return gateway.State is ResourceState.Running or ResourceState.Unhealthy && gateway.Url is not null
            ? null
            : $"The gateway is not running (it is {gateway.State.ToContractString()}). Start it on the Resources page.";
    }

    /// <summary>The typed client for JSON calls (short timeout); dispose its HttpClient via <see cref="GatewayClient.Http"/>.</summary>
    public GatewayClient Api() => new(Client(JsonTimeout));

    /// <summary>No timeout by default: a transfer lasts as long as the file needs; the request's own cancellation ends it.</summary>
    public HttpClient Client(TimeSpan? timeout = null)
    {
        var client = app.CreateHttpClient(ResourceNames.Gateway);
        client.Timeout = timeout ?? Timeout.InfiniteTimeSpan;
        return client;
    }

    private static readonly string[] RequestHeaders = ["Repr-Digest", "Range", "If-None-Match", "If-Match", "If-Modified-Since"];
    private static readonly string[] ResponseHeaders =
        ["ETag", "Repr-Digest", "X-Dfs-Version", "Accept-Ranges", "Last-Modified", "Location", "Content-Range", "Retry-After"];

    /// <summary>
    /// Sends the request (the client's body streamed through, if it has one) and streams the gateway's
    /// answer back: status, the headers that matter and the body, problem details included.
    /// </summary>
    public async Task ForwardAsync(HttpContext context, HttpMethod method, string gatewayTarget, Action<HttpResponse>? decorate = null)
    {
        var ct = context.RequestAborted;
        using var request = new HttpRequestMessage(method, gatewayTarget);
        var source = context.Request;
        foreach (var name in RequestHeaders)
            if (source.Headers.TryGetValue(name, out var value))
                request.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)value);
        if (HttpMethods.IsPut(source.Method) || HttpMethods.IsPost(source.Method))
        {
            if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
            var content = new StreamContent(source.Body, 1 << 16);
            content.Headers.ContentType = MediaTypeHeaderValue.TryParse(source.ContentType, out var type) ? type : new MediaTypeHeaderValue("application/octet-stream");
            if (source.ContentLength is { } length) content.Headers.ContentLength = length;
            if (source.Headers.TryGetValue("Content-MD5", out var md5)) content.Headers.TryAddWithoutValidation("Content-MD5", md5.ToString());
            request.Content = content;
        }

        using var client = Client();
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        var target = context.Response;
        target.StatusCode = (int)response.StatusCode;
        foreach (var name in ResponseHeaders)
        {
            if (response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values))
                target.Headers[name] = values.ToArray();
        }
        if (response.Content.Headers.ContentType is { } contentType) target.ContentType = contentType.ToString();
        if (response.Content.Headers.ContentLength is { } contentLength) target.ContentLength = contentLength;
        if (response.IsSuccessStatusCode) decorate?.Invoke(target);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        await body.CopyToAsync(target.Body, 1 << 16, ct);
    }
}
