using System.Net;
using System.Net.Http.Json;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.Gateway.Tests.Api;

/// <summary>Every bad request gets a clear 4xx with problem details and changes nothing.</summary>
public sealed class BadInputTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private HttpClient _http = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _factory.StartServer();
        _http = _factory.CreateClient();
        (await _http.PutAsync("/api/dirs/existing/dir?parents=true", null, Ct)).EnsureSuccessStatusCode();
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("/api/files/a%2Fb", "'/'")]
    [InlineData("/api/files/a%01b", "control character")]
    [InlineData("/api/files/a%0Ab", "control character")]
    [InlineData("/api/files/%ED%A0%80", "UTF-8")]
    public async Task Invalid_paths_are_400_with_problem_details(string url, string reason)
    {
        using var response = await _http.PutAsync(url, new ByteArrayContent([1, 2, 3]), Ct);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, reason);
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task Overlong_segments_and_paths_are_400()
    {
        var segment = new string('a', 256);
        using var longSegment = await _http.PutAsync($"/api/files/{segment}", new ByteArrayContent([1]), Ct);
        await AssertProblemAsync(longSegment, HttpStatusCode.BadRequest, "255 bytes");

        // 255 bytes per segment is fine, 2-byte characters count twice.
        using var twoByte = await _http.PutAsync($"/api/dirs/{Uri.EscapeDataString(new string('é', 128))}", null, Ct);
        await AssertProblemAsync(twoByte, HttpStatusCode.BadRequest, "255 bytes");

        var longPath = string.Join('/', Enumerable.Repeat(new string('b', 200), 21));
        using var tooLong = await _http.PutAsync($"/api/dirs/{longPath}?parents=true", null, Ct);
        await AssertProblemAsync(tooLong, HttpStatusCode.BadRequest, "4096 bytes");
        await AssertNamespaceUnchangedAsync();
    }

    // Kestrel decodes %2E and collapses dot segments before routing: each of these, let through, would reach an
    // endpoint under another path (the comment says which) and store, serve, delete or move that instead.
    [Theory]
    [InlineData("PUT", "/api/files/a/%2E%2E/b", null, "..")]                              // PUT /b
    [InlineData("PUT", "/api/files/existing/%2E%2E/%2E%2E/etc", null, "..")]              // /api/etc: 404
    [InlineData("PUT", "/api/files/existing/%2e/new.txt", null, ".")]                      // PUT /existing/new.txt
    [InlineData("PUT", "/api/files/existing/./new.txt", null, ".")]                        // literal, same
    [InlineData("PUT", "/x/%2E%2E/api/files/new.txt", null, "..")]                         // PUT /new.txt
    [InlineData("PUT", "/API/files/existing/dir/%2e%2E/new.txt", null, "..")]              // PUT /existing/new.txt
    [InlineData("PUT", "/api/dirs/existing/%2E%2E/made?parents=true", null, "..")]         // mkdir /made
    [InlineData("GET", "/api/files/existing/%2E%2E/existing/dir/kept.txt", null, "..")]    // serves the file
    [InlineData("GET", "/api/stat/existing/dir/%2E%2E", null, "..")]                       // stat /existing
    [InlineData("GET", "/api/list/%2E", null, ".")]                                        // lists /
    [InlineData("DELETE", "/api/files/existing/dir/x/%2E%2E/kept.txt", null, "..")]        // deletes the file
    [InlineData("DELETE", "/api/entries/existing/dir/%2E%2E?recursive=true", null, "..")]  // deletes /existing
    [InlineData("POST", "/api/x/%2E%2E/move", """{"from":"/existing/dir","to":"/moved"}""", "..")]   // moves
    [InlineData("POST", "/api/move", """{"from":"/existing/dir","to":"/existing/../moved"}""", "..")] // '..' in the body
    [InlineData("POST", "/api/move", """{"from":"/existing/./dir","to":"/moved"}""", ".")]
    public async Task Dot_segments_literal_or_encoded_are_400_and_change_nothing(string method, string target, string? json, string segment)
    {
        var client = DfsRefit.Gateway(_http);
        await client.PutFileAsync("/existing/dir/kept.txt", new MemoryStream(), ct: Ct);

        await using var raw = await RawHttp.ConnectAsync(_http.BaseAddress!, Ct);
        var body = json is null ? [] : Encoding.UTF8.GetBytes(json);
        await raw.SendRequestAsync($"{method} {target} HTTP/1.1\nContent-Type: application/json\nContent-Length: {body.Length}", body, Ct);
        var response = await raw.ReadResponseAsync(Ct);

        Assert.NotNull(response);
        Assert.True(response.Status == 400, $"{response.Status} {response.Text}");
        Assert.Equal("application/problem+json", response.Headers["Content-Type"].Split(';')[0]);
        var problem = System.Text.Json.JsonSerializer.Deserialize<ApiProblem>(response.Body, System.Text.Json.JsonSerializerOptions.Web)!;
        Assert.Equal(("Invalid path", 400), (problem.Title, problem.Status));
        Assert.Contains($"'{segment}' segment", problem.Detail);

        var root = await client.ListAsync("/", ct: Ct);
        Assert.Equal(["existing"], root.Entries.Where(e => e.Name is not "home").Select(e => e.Name));
        Assert.Equal(["dir"], (await client.ListAsync("/existing", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["kept.txt"], (await client.ListAsync("/existing/dir", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(1, (await client.StatAsync("/existing/dir/kept.txt", Ct)).Version);
    }

    [Theory]
    [InlineData("/api/files/new.bin?conflict=clobber", "conflict must be")]
    [InlineData("/api/files/new.bin?replication=0", "replication must be")]
    [InlineData("/api/files/new.bin?replication=abc", "replication must be")]
    [InlineData("/api/files/new.bin?replication=99", "replication must be")]
    public async Task Unknown_query_values_are_400(string url, string reason)
    {
        using var response = await _http.PutAsync(url, new ByteArrayContent([1]), Ct);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, reason);
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task Malformed_digest_headers_are_400()
    {
        using var badMd5 = new HttpRequestMessage(HttpMethod.Put, "/api/files/d.bin") { Content = new ByteArrayContent([1]) };
        badMd5.Content.Headers.TryAddWithoutValidation("Content-MD5", "not-base64!");
        await AssertProblemAsync(await _http.SendAsync(badMd5, Ct), HttpStatusCode.BadRequest, "Content-MD5");

        using var badRepr = new HttpRequestMessage(HttpMethod.Put, "/api/files/d.bin") { Content = new ByteArrayContent([1]) };
        badRepr.Headers.TryAddWithoutValidation("Repr-Digest", "sha-256=:AAAA:");
        await AssertProblemAsync(await _http.SendAsync(badRepr, Ct), HttpStatusCode.BadRequest, "Repr-Digest");
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task Put_without_any_storage_node_is_507_and_commits_nothing()
    {
        using var response = await _http.PutAsync("/api/files/nowhere.bin", new ByteArrayContent(new byte[1000]), Ct);
        await AssertProblemAsync(response, HttpStatusCode.InsufficientStorage, "Nothing was committed");
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task Empty_file_needs_no_node_and_round_trips()
    {
        using var put = await _http.PutAsync("/api/files/empty.txt", new ByteArrayContent([]), Ct);
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        var result = await put.Content.ReadFromJsonAsync<PutFileResult>(Ct);
        Assert.Equal("d41d8cd98f00b204e9800998ecf8427e", result!.Md5);
        using var get = await _http.GetAsync("/api/files/empty.txt", Ct);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Empty(await get.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("\"d41d8cd98f00b204e9800998ecf8427e\"", get.Headers.ETag!.Tag);
        Assert.Equal("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:", get.Headers.GetValues("Repr-Digest").Single());
    }

    [Fact]
    public async Task Missing_files_and_wrong_kinds_are_clear()
    {
        await AssertProblemAsync(await _http.GetAsync("/api/files/missing.bin", Ct), HttpStatusCode.NotFound, "does not exist");
        await AssertProblemAsync(await _http.GetAsync("/api/files/existing", Ct), HttpStatusCode.BadRequest, "directory");
        await AssertProblemAsync(await _http.DeleteAsync("/api/files/existing", Ct), HttpStatusCode.Conflict, "directory");
        await AssertProblemAsync(await _http.PutAsync("/api/files/existing", new ByteArrayContent([1]), Ct), HttpStatusCode.Conflict, "directory");
        await AssertProblemAsync(await _http.DeleteAsync("/api/entries/existing", Ct), HttpStatusCode.Conflict, "not empty");
        await AssertNamespaceUnchangedAsync();
    }

    [Theory]
    [InlineData("/api/list/existing?limit=0")]
    [InlineData("/api/list/existing?limit=100000")]
    [InlineData("/api/list/existing?cursor=%%%")]
    [InlineData("/api/list/existing?limit=ten")]
    public async Task Bad_listing_parameters_are_400(string url) =>
        await AssertProblemAsync(await _http.GetAsync(url, Ct), HttpStatusCode.BadRequest, "");

    [Fact]
    public async Task Malformed_json_and_bad_moves_are_400()
    {
        using var malformed = await _http.PostAsync("/api/move", new StringContent("{\"from\": ", Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        using var badPath = await _http.PostAsJsonAsync("/api/move", new MoveRequest("/existing", "/a//b"), Ct);
        await AssertProblemAsync(badPath, HttpStatusCode.BadRequest, "empty segment");
        using var into = await _http.PostAsJsonAsync("/api/move", new MoveRequest("/existing", "/existing/dir/x"), Ct);
        await AssertProblemAsync(into, HttpStatusCode.BadRequest, "into itself");
        await AssertNamespaceUnchangedAsync();
    }

    [Fact]
    public async Task Internal_api_refuses_bad_registrations_and_unknown_nodes()
    {
        using var cluster = _factory.CreateClusterClient();
        using var bad = await cluster.PostAsJsonAsync("/internal/nodes/register", new NodeRegistration(Guid.Empty, "", "not a url", new NodeUsage(0, 0, 0, 0)), Ct);
        await AssertProblemAsync(bad, HttpStatusCode.BadRequest, "nodeId");
        using var unknown = await cluster.PostAsJsonAsync($"/internal/nodes/{Guid.NewGuid()}/heartbeat", new NodeHeartbeat(new NodeUsage(1, 1, 0, 0)), Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var replica = await cluster.PostAsJsonAsync("/internal/replicas", new ReplicaReport("ABC", Guid.NewGuid()), Ct);
        await AssertProblemAsync(replica, HttpStatusCode.BadRequest, "chunkId");
        Assert.Empty((await _http.GetFromJsonAsync<List<NodeInfo>>("/api/nodes", Ct))!);
    }

    [Fact]
    public async Task OpenApi_document_describes_the_public_api()
    {
        var doc = await _http.GetStringAsync("/openapi/v1.json", Ct);
        Assert.Contains("/api/files/{path}", doc);
        Assert.Contains("/api/list/{path}", doc);
        Assert.DoesNotContain("/internal/", doc);
        using var swagger = await _http.GetAsync("/swagger/index.html", Ct);
        Assert.Equal(HttpStatusCode.OK, swagger.StatusCode);
    }

    private async Task AssertNamespaceUnchangedAsync()
    {
        var root = await DfsRefit.Gateway(_http).ListAsync("/", ct: Ct);
        Assert.Equal(["existing"], root.Entries.Where(e => e.Name is not ("empty.txt" or "home")).Select(e => e.Name));
        var below = await DfsRefit.Gateway(_http).ListAsync("/existing", ct: Ct);
        Assert.Equal(["dir"], below.Entries.Select(e => e.Name));
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string detailContains)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
            Assert.Equal((int)status, problem!.Status);
            Assert.Contains(detailContains, problem.Detail ?? problem.Title, StringComparison.OrdinalIgnoreCase);
        }
    }
}
