using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Files;
using Dfs.Gateway.Tests.Auth;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// Bad input at the edges of HTTP itself: request targets and lengths, framing, Unicode spellings of one name,
/// true/false flags. Every refusal is clear and leaves the namespace as it was.
/// </summary>
public sealed class RequestEdgeTests : IAsyncLifetime
{
    private const string EmptyMd5 = "d41d8cd98f00b204e9800998ecf8427e";
    private readonly GatewayFactory _factory = new();
    private HttpClient _http = null!;
    private IGatewayApi _client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _factory.StartServer();
        _http = _factory.CreateClient();
        _client = DfsRefit.Gateway(_http);
        await _client.MkdirAsync("/existing/dir", parents: true, Ct);
        await AuthKit.PutEmptyAsync(_client, "/existing/keep.txt");
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    // Move carries its paths in JSON, where '%' is an ordinary character: there is no escape there to be malformed.
    [Theory]
    [InlineData("PUT", "/api/files/a%zz", false)]
    [InlineData("PUT", "/api/files/existing/b%", false)]
    [InlineData("PUT", "/api/files/existing/c%2", false)]
    [InlineData("PUT", "/api/files/existing/%2/d.txt", false)]
    [InlineData("GET", "/api/files/existing/keep.txt%", false)]
    [InlineData("HEAD", "/api/files/existing/keep.txt%zz", true)]
    [InlineData("DELETE", "/api/files/existing/keep.txt%", false)]
    [InlineData("DELETE", "/api/files/existing/keep%2Etxt%2", false)]
    [InlineData("DELETE", "/api/entries/existing%zz?recursive=true", false)]
    [InlineData("PUT", "/api/dirs/new%G1/sub?parents=true", false)]
    [InlineData("GET", "/api/list/existing%", false)]
    [InlineData("GET", "/api/stat/existing/%%41", false)]
    public async Task Malformed_percent_escapes_are_400_invalid_path_and_change_nothing(string method, string target, bool head)
    {
        await using var raw = await RawHttp.ConnectAsync(_http.BaseAddress!, Ct);
        await raw.SendRequestAsync($"{method} {target} HTTP/1.1\nContent-Length: 0", body: null, Ct);
        var response = await raw.ReadResponseAsync(Ct, head);

        Assert.NotNull(response);
        Assert.Equal(400, response.Status);
        Assert.Equal("application/problem+json", response.Headers["Content-Type"].Split(';')[0]);
        if (!head)
        {
            var problem = ProblemOf(response);
            Assert.Equal(("Invalid path", 400), (problem.Title, problem.Status));
            Assert.Equal("The path has a malformed percent-escape.", problem.Detail);
        }
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task An_oversized_request_line_is_414_and_oversized_headers_are_431_and_nothing_is_created()
    {
        // Kestrel's limits (8 KB request line, 32 KB of headers, 100 headers) answer before routing, with the connection closed.
        var cases = new (string Head, int Status)[]
        {
            ($"PUT /api/dirs/{new string('a', 9000)}?parents=true HTTP/1.1", 414),
            ($"PUT /api/dirs/{string.Join('/', Enumerable.Repeat(new string('a', 240), 36))}?parents=true HTTP/1.1", 414),
            ($"PUT /api/dirs/big-header HTTP/1.1\nX-Big: {new string('h', 33 * 1024)}", 431),
            ($"PUT /api/dirs/many-small HTTP/1.1\n{string.Join('\n', Enumerable.Range(0, 40).Select(i => $"X-H{i}: {new string('h', 1000)}"))}", 431),
            ($"PUT /api/dirs/many-headers HTTP/1.1\n{string.Join('\n', Enumerable.Range(0, 101).Select(i => $"X-H{i}: v"))}", 431),
        };
        foreach (var (head, status) in cases)
        {
            await using var raw = await RawHttp.ConnectAsync(_http.BaseAddress!, Ct);
            await raw.SendRequestAsync(head + "\nContent-Length: 0", body: null, Ct);
            var response = await raw.ReadResponseAsync(Ct);
            Assert.NotNull(response);
            Assert.Equal(status, response.Status);
            Assert.True(await raw.IsClosedByServerAsync(Ct));
        }

        // Just under the request-line limit, the gateway's own path rules answer.
        var under = $"PUT /api/dirs/{string.Join('/', Enumerable.Repeat(new string('a', 240), 30))}?parents=true HTTP/1.1\nContent-Length: 0";
        await using (var raw = await RawHttp.ConnectAsync(_http.BaseAddress!, Ct))
        {
            await raw.SendRequestAsync(under, body: null, Ct);
            var response = await raw.ReadResponseAsync(Ct);
            Assert.Equal(400, response!.Status);
            Assert.Equal("The path is longer than 4096 bytes.", ProblemOf(response).Detail);
        }
        await AssertNamespaceUnchangedAsync();
    }

    [Theory]
    [InlineData("PUT", "/api/files/existing/{0}")]
    [InlineData("PUT", "/api/dirs/existing/{0}")]
    [InlineData("GET", "/api/stat/existing/{0}")]
    [InlineData("DELETE", "/api/entries/existing/{0}")]
    public async Task A_segment_over_255_bytes_is_400_wherever_a_path_is_named(string method, string template)
    {
        // 64 four-byte characters: 256 bytes in 128 UTF-16 chars.
        var name = Uri.EscapeDataString(string.Concat(Enumerable.Repeat("\U0001F600", 64)));
        using var request = new HttpRequestMessage(new HttpMethod(method), string.Format(System.Globalization.CultureInfo.InvariantCulture, template, name));
        var problem = await AuthKit.ProblemAsync(await _http.SendAsync(request, Ct), HttpStatusCode.BadRequest);
        Assert.Equal(("Invalid path", "A path segment is longer than 255 bytes."), (problem.Title, problem.Detail));
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task Names_that_differ_only_in_unicode_normalization_are_one_name()
    {
        const string nfc = "caf%C3%A9";   // "café", é as one code point
        const string nfd = "cafe%CC%81";  // "café", e + combining acute accent
        var cafe = "caf\u00e9";
        await using (var scope = _factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<FileCommitter>()
                .CommitAsync($"/u/{cafe}", ConflictPolicy.Fail, MetadataHarness.FakeUpload([1, 2, 3, 4, 5]), Ct);
        var original = await _client.StatAsync($"/u/{cafe}", Ct);

        var conflict = await AuthKit.ProblemAsync(await SendAsync(HttpMethod.Put, $"/api/files/u/{nfd}?conflict=fail", []), HttpStatusCode.Conflict);
        Assert.Equal($"'/u/{cafe}' already exists (use conflict=overwrite or conflict=rename).", conflict.Detail);
        Assert.Equivalent(original, await _client.StatAsync($"/u/{cafe}", Ct));

        // Read by the other spelling: the same file (HEAD: no node holds the fake chunk's bytes).
        using (var head = await SendAsync(HttpMethod.Head, $"/api/files/u/{nfd}"))
        {
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Equal(5, head.Content.Headers.ContentLength);
            Assert.Equal($"\"{original.Md5}\"", head.Headers.ETag!.Tag);
        }
        using (var stat = await SendAsync(HttpMethod.Get, $"/api/stat/u/{nfd}"))
            Assert.Equal($"/u/{cafe}", (await stat.Content.ReadFromJsonAsync<EntryDetails>(Ct))!.Path);

        using (var renamed = await SendAsync(HttpMethod.Put, $"/api/files/u/{nfd}?conflict=rename", []))
        {
            Assert.Equal(HttpStatusCode.Created, renamed.StatusCode);
            var result = (await renamed.Content.ReadFromJsonAsync<PutFileResult>(Ct))!;
            Assert.Equal(($"/u/{cafe} (1)", true, 0L), (result.Path, result.Renamed, result.Size));
        }
        using (var overwritten = await SendAsync(HttpMethod.Put, $"/api/files/u/{nfd}?conflict=overwrite", []))
        {
            Assert.Equal(HttpStatusCode.Created, overwritten.StatusCode);
            var result = (await overwritten.Content.ReadFromJsonAsync<PutFileResult>(Ct))!;
            Assert.Equal(($"/u/{cafe}", 2, 0L, EmptyMd5), (result.Path, result.Version, result.Size, result.Md5));
        }
        Assert.Equal([cafe, $"{cafe} (1)"], (await _client.ListAsync("/u", ct: Ct)).Entries.Select(e => e.Name));

        // Directories: the second spelling is the same directory.
        using (var created = await SendAsync(HttpMethod.Put, $"/api/dirs/d/{nfc}?parents=true"))
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var clash = await AuthKit.ProblemAsync(await SendAsync(HttpMethod.Put, $"/api/dirs/d/{nfd}?parents=false"), HttpStatusCode.Conflict);
        Assert.Equal($"'/d/{cafe}' already exists.", clash.Detail);
        using (var again = await SendAsync(HttpMethod.Put, $"/api/dirs/d/{nfd}?parents=true"))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            Assert.Equal($"/d/{cafe}", (await again.Content.ReadFromJsonAsync<EntryInfo>(Ct))!.Path);
        }
        var names = (await _client.ListAsync("/d", ct: Ct)).Entries.Select(e => e.Name).ToList();
        Assert.Equal([cafe], names);
        Assert.Equal(Encoding.UTF8.GetBytes(cafe), Encoding.UTF8.GetBytes(names[0])); // stored as NFC

        // Deleting by the other spelling deletes the one file.
        using (var deleted = await SendAsync(HttpMethod.Delete, $"/api/files/u/{nfd}%20%281%29"))
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal([cafe], (await _client.ListAsync("/u", ct: Ct)).Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task A_body_longer_than_its_content_length_ends_there_and_the_rest_is_a_bad_request_that_creates_nothing()
    {
        await using var raw = await RawHttp.ConnectAsync(_http.BaseAddress!, Ct);
        // One write: the request with Content-Length: 0, then bytes that are not a request.
        var garbage = "\u0001\u0002 not a request at all\r\n\r\n";
        var head = "PUT /api/files/x/long.bin HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: " + RawHttp.AdminAuthorization + "\r\nContent-Length: 0\r\n\r\n";
        await raw.SendAsync(Encoding.ASCII.GetBytes(head + garbage), Ct);

        var first = await raw.ReadResponseAsync(Ct);
        Assert.Equal(201, first!.Status);
        var put = JsonSerializer.Deserialize<PutFileResult>(first.Body, JsonSerializerOptions.Web)!;
        Assert.Equal(("/x/long.bin", 0L, EmptyMd5), (put.Path, put.Size, put.Md5));

        var second = await raw.ReadResponseAsync(Ct);
        Assert.Equal(400, second!.Status); // Kestrel: not an HTTP request line
        Assert.True(await raw.IsClosedByServerAsync(Ct));

        var stat = await _client.StatAsync("/x/long.bin", Ct);
        Assert.Equal((0L, (string?)EmptyMd5, (int?)1), (stat.Size, stat.Md5, stat.Version));
        Assert.Equal(["long.bin"], (await _client.ListAsync("/x", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["existing", "x"], await RootNamesAsync());
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_commits_nothing()
    {
        await using var raw = await RawHttp.ConnectAsync(_http.BaseAddress!, Ct);
        await raw.SendRequestAsync("PUT /api/files/x/short.bin HTTP/1.1\nContent-Length: 100", new byte[10], Ct);
        raw.ShutdownSend();

        // Kestrel takes the half-close for the end of the connection: the upload's read fails and the answer (a 400,
        // when it can still be written) usually reaches nobody. Either way the connection ends and nothing is committed.
        var response = await raw.ReadResponseAsync(Ct);
        if (response is not null)
        {
            Assert.Equal(400, response.Status);
            Assert.Contains("Unexpected end of request content", ProblemOf(response).Detail);
        }
        Assert.True(await raw.IsClosedByServerAsync(Ct));

        // The request may still be unwinding on the server: look a few times.
        for (var i = 0; i < 5; i++)
        {
            await AuthKit.FailsAsync(HttpStatusCode.NotFound, () => _client.StatAsync("/x/short.bin", Ct));
            await Task.Delay(100, Ct);
        }
        await AssertNamespaceUnchangedAsync();
    }

    public static TheoryData<string, string, string> Flags => new()
    {
        { "PUT", "/api/dirs/new/sub?parents=", "parents" },
        { "DELETE", "/api/entries/existing?recursive=", "recursive" },
        { "GET", "/api/shares?all=", "all" },
        { "DELETE", "/api/nodes/n1?force=", "force" },
    };

    [Theory]
    [MemberData(nameof(Flags))]
    public async Task True_false_flags_refuse_other_values_naming_the_parameter_and_change_nothing(string method, string url, string name)
    {
        var bob = await AuthKit.CreateUserAsync(_factory, "bob");
        var share = await _client.CreateShareAsync("/existing", "bob", ShareAccess.Read, Ct);
        using (var cluster = _factory.CreateClusterClient())
        using (var registered = await cluster.PostAsJsonAsync("/internal/nodes/register",
                   new NodeRegistration(Guid.NewGuid(), "n1", "http://127.0.0.1:1/n1", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct))
            registered.EnsureSuccessStatusCode();

        foreach (var value in new[] { "yes", "2", "", "on", "truee", "%20true" })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), url + value);
            var problem = await AuthKit.ProblemAsync(await _http.SendAsync(request, Ct), HttpStatusCode.BadRequest);
            Assert.Equal($"Invalid {name}", problem.Title);
            Assert.Equal($"{name} must be true or false, not '{Uri.UnescapeDataString(value)}'.", problem.Detail);
        }

        await AssertNamespaceUnchangedAsync();
        Assert.Equal("n1", Assert.Single(await _client.GetNodesAsync(Ct)).Name);
        Assert.Equal([share.Id], (await _client.ListSharesAsync(all: true, Ct)).Given.Select(s => s.Id));
        Assert.Equal(["/existing"], (await bob.ListSharesAsync(ct: Ct)).Received.Select(s => s.Path));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string target, byte[]? body = null)
    {
        // The target goes out exactly as written: no re-escaping or dot-segment collapsing by Uri.
        var uri = new Uri(new Uri(_http.BaseAddress!, "/").AbsoluteUri + target.TrimStart('/'),
            new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        var request = new HttpRequestMessage(method, uri);
        if (body is not null) request.Content = new ByteArrayContent(body);
        return _http.SendAsync(request, Ct);
    }

    private static ApiProblem ProblemOf(RawResponse response) =>
        JsonSerializer.Deserialize<ApiProblem>(response.Body, JsonSerializerOptions.Web)!;

    private async Task<List<string>> RootNamesAsync() =>
        (await _client.ListAsync("/", ct: Ct)).Entries.Select(e => e.Name).Where(n => n != "home").ToList();

    private async Task AssertNamespaceUnchangedAsync()
    {
        Assert.Equal(["existing"], await RootNamesAsync());
        Assert.Equal(["dir", "keep.txt"], (await _client.ListAsync("/existing", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Empty((await _client.ListAsync("/existing/dir", ct: Ct)).Entries);
        var keep = await _client.StatAsync("/existing/keep.txt", Ct);
        Assert.Equal((0L, (string?)EmptyMd5, (int?)1), (keep.Size, keep.Md5, keep.Version));
    }
}
