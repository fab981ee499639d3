using System.Net;
using MediaTypeHeaderValue = System.Net.Http.Headers.MediaTypeHeaderValue;
using System.Text.RegularExpressions;
using Microsoft.Net.Http.Headers;

namespace Dfs.Gateway.Tests.Console;

/// <summary>
/// A browser's side of the console without a browser: its own cookie jar (so every Set-Cookie can be inspected),
/// no automatic redirects, and the antiforgery token of the last page it loaded.
/// </summary>
internal sealed partial class ConsoleClient : IDisposable
{
    public const string SessionCookie = "dfs_console";
    public const string TokenField = "__csrf";
    public const string TokenHeader = "X-Dfs-Csrf";

    private readonly HttpClient _http;

    public ConsoleClient(Uri gateway)
    {
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = gateway };
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The cookies the gateway set and has not deleted, by name.</summary>
    public Dictionary<string, string> Cookies { get; } = new(StringComparer.Ordinal);

    /// <summary>The Set-Cookie headers of the last answer.</summary>
    public IList<SetCookieHeaderValue> LastSetCookies { get; private set; } = [];

    /// <summary>The antiforgery token of the last page loaded (its dfs-csrf meta tag).</summary>
    public string? Token { get; private set; }

    public string? Session => Cookies.GetValueOrDefault(SessionCookie);

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (Cookies.Count > 0) request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(c => $"{c.Key}={c.Value}")));
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        LastSetCookies = response.Headers.TryGetValues("Set-Cookie", out var values) ? SetCookieHeaderValue.ParseList(values.ToList()) : [];
        foreach (var cookie in LastSetCookies)
        {
            var expired = cookie.Expires is { } expires && expires < DateTimeOffset.UtcNow;
            if (expired || cookie.Value.Length == 0) Cookies.Remove(cookie.Name.Value!);
            else Cookies[cookie.Name.Value!] = cookie.Value.Value!;
        }
        return response;
    }

    public Task<HttpResponseMessage> GetAsync(string url, CancellationToken ct, string? accept = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        return SendAsync(request, ct);
    }

    /// <summary>GETs a page, remembers its antiforgery token, and returns its status and HTML.</summary>
    public async Task<(HttpStatusCode Status, string Html)> PageAsync(string url, CancellationToken ct)
    {
        using var response = await GetAsync(url, ct);
        var html = await response.Content.ReadAsStringAsync(ct);
        if (TokenMeta().Match(html) is { Success: true } match) Token = WebUtility.HtmlDecode(match.Groups[1].Value);
        return (response.StatusCode, html);
    }

    /// <summary>Posts a form; the page's antiforgery token is added unless <paramref name="token"/> says otherwise ("" = none).</summary>
    public Task<HttpResponseMessage> PostFormAsync(string url, IEnumerable<KeyValuePair<string, string>> fields, CancellationToken ct, string? token = null)
    {
        var all = fields.ToList();
        var sent = token ?? Token;
        if (!string.IsNullOrEmpty(sent)) all.Add(new(TokenField, sent));
        return SendAsync(new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(all) }, ct);
    }

    public Task<HttpResponseMessage> PostFormAsync(string url, CancellationToken ct, string? token = null) => PostFormAsync(url, [], ct, token);

    /// <summary>Signs in through the sign-in page's form; returns the answer (303 on success).</summary>
    public async Task<HttpResponseMessage> SignInAsync(string user, string password, CancellationToken ct, string? returnUrl = null)
    {
        var (status, _) = await PageAsync("/console/login", ct);
        Assert.Equal(HttpStatusCode.OK, status);
        var fields = new List<KeyValuePair<string, string>> { new("user", user), new("password", password) };
        if (returnUrl is not null) fields.Add(new("returnUrl", returnUrl));
        return await PostFormAsync("/console/login", fields, ct);
    }

    public async Task SignedInAsync(string user, string password, CancellationToken ct)
    {
        using var response = await SignInAsync(user, password, ct);
        Assert.Equal(HttpStatusCode.SeeOther, response.StatusCode);
        Assert.NotNull(Session);
        // A page of the signed-in user: its token is the one posts must carry now.
        Assert.Equal(HttpStatusCode.OK, (await PageAsync("/console", ct)).Status);
    }

    /// <summary>Uploads <paramref name="body"/> to <paramref name="path"/> as the page's script does (the bytes as the body, the token in a header).</summary>
    public Task<HttpResponseMessage> UploadAsync(string path, HttpContent body, CancellationToken ct, string conflict = "fail", string? token = null,
        string accept = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/console/upload?path=" + Uri.EscapeDataString(path) + "&conflict=" + conflict) { Content = body };
        body.Headers.ContentType ??= new MediaTypeHeaderValue("application/octet-stream");
        var sent = token ?? Token;
        if (!string.IsNullOrEmpty(sent)) request.Headers.Add(TokenHeader, sent);
        request.Headers.Accept.ParseAdd(accept);
        return SendAsync(request, ct);
    }

    public static string FilesUrl(string path) => "/console/files?path=" + Uri.EscapeDataString(path);

    public static string DownloadUrl(string path) => "/console/download?path=" + Uri.EscapeDataString(path);

    /// <summary>The text of the error page's message (#error), decoded.</summary>
    public static string ErrorOf(string html)
    {
        var match = ErrorParagraph().Match(html);
        Assert.True(match.Success, "no #error on the page: " + html[..Math.Min(html.Length, 2000)]);
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<meta name=\"dfs-csrf\" content=\"([^\"]*)\">")]
    private static partial Regex TokenMeta();

    [GeneratedRegex("<p class=\"notice error\" id=\"error\"[^>]*>(.*?)</p>", RegexOptions.Singleline)]
    private static partial Regex ErrorParagraph();
}
