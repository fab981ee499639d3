using System.Net;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Files;
using Dfs.Gateway.Tests.Auth;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// How GET and HEAD answer a Range header (RFC 9110 §14). No storage node runs here, so a file with content
/// is committed with a fake chunk layout and read with HEAD: status and headers are decided before any chunk
/// is fetched. Refusals are checked with GET as well.
/// </summary>
public sealed class RangeTests : IAsyncLifetime
{
    private readonly GatewayFactory _factory = new();
    private HttpClient _http = null!;
    private IGatewayApi _client = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        _factory.StartServer();
        _http = _factory.CreateClient();
        _client = DfsRefit.Gateway(_http);
        await using (var scope = _factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<FileCommitter>()
                .CommitAsync("/r/ten.bin", ConflictPolicy.Fail, MetadataHarness.FakeUpload([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), Ct);
        await AuthKit.PutEmptyAsync(_client, "/r/empty.bin");
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    [Theory]
    [InlineData("bytes=abc")]
    [InlineData("bytes=5-2")]
    [InlineData("bytes=")]
    [InlineData("bytes")]
    [InlineData("bytes=-")]
    [InlineData("bytes=1-2-3")]
    [InlineData("bytes=+1-2")]
    [InlineData("bytes=0x1-2")]
    [InlineData("bytes=--1")]
    [InlineData("bytes=0-1,abc")]
    [InlineData("bytes=0-1,5-2")]
    [InlineData("BYTES=1")]
    public async Task A_malformed_byte_range_is_400_naming_the_accepted_forms(string range)
    {
        foreach (var path in new[] { "/api/files/r/ten.bin", "/api/files/r/empty.bin" })
        {
            var problem = await AuthKit.ProblemAsync(await SendAsync(HttpMethod.Get, path, range), HttpStatusCode.BadRequest);
            Assert.Equal("Invalid Range", problem.Title);
            Assert.Equal($"Range '{range}' is not a byte range: use bytes=first-last (first ≤ last), bytes=first- or bytes=-suffix.", problem.Detail);
            using var head = await SendAsync(HttpMethod.Head, path, range);
            Assert.Equal(HttpStatusCode.BadRequest, head.StatusCode);
        }
        await AssertFilesUnchangedAsync();
    }

    [Theory]
    [InlineData("bytes=0-1,3-4")]
    [InlineData("bytes=0-1, 5-")]
    [InlineData("bytes=-2,0-0")]
    [InlineData("items=0-1")]
    [InlineData("items=abc")]
    [InlineData("none")]
    [InlineData("")]
    public async Task Several_ranges_and_other_units_are_ignored_and_the_whole_file_is_served(string range)
    {
        using var response = await SendAsync(HttpMethod.Head, "/api/files/r/ten.bin", range);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(10, response.Content.Headers.ContentLength);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
    }

    [Theory]
    [InlineData("bytes=2-5", 2, 5)]
    [InlineData("Bytes=2-5", 2, 5)]
    [InlineData("bytes=7-", 7, 9)]
    [InlineData("bytes=5-100", 5, 9)]
    [InlineData("bytes=9-99999999999999999999999", 9, 9)]
    [InlineData("bytes=-3", 7, 9)]
    [InlineData("bytes=-30", 0, 9)]
    [InlineData("bytes=-99999999999999999999999", 0, 9)]
    [InlineData("bytes=0-0", 0, 0)]
    [InlineData("bytes= 1-2", 1, 2)]
    public async Task One_byte_range_is_206_with_content_range(string range, long from, long to)
    {
        using var response = await SendAsync(HttpMethod.Head, "/api/files/r/ten.bin", range);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(to - from + 1, response.Content.Headers.ContentLength);
        Assert.Equal($"bytes {from}-{to}/10", response.Content.Headers.ContentRange!.ToString());
    }

    [Theory]
    [InlineData("/api/files/r/ten.bin", "bytes=10-", 10)]
    [InlineData("/api/files/r/ten.bin", "bytes=10-20", 10)]
    [InlineData("/api/files/r/ten.bin", "bytes=99999999999999999999999-", 10)]
    [InlineData("/api/files/r/ten.bin", "bytes=-0", 10)]
    [InlineData("/api/files/r/empty.bin", "bytes=0-", 0)]
    [InlineData("/api/files/r/empty.bin", "bytes=0-0", 0)]
    [InlineData("/api/files/r/empty.bin", "bytes=-0", 0)]
    public async Task A_range_past_the_end_is_416(string path, string range, int size)
    {
        var problem = await AuthKit.ProblemAsync(await SendAsync(HttpMethod.Get, path, range), HttpStatusCode.RequestedRangeNotSatisfiable);
        Assert.Equal(("Range not satisfiable", $"The file is {size} bytes long."), (problem.Title, problem.Detail));
        await AssertFilesUnchangedAsync();
    }

    [Fact]
    public async Task A_suffix_range_of_an_empty_file_is_the_whole_empty_file()
    {
        // There is no last byte to cut a suffix from, and no Content-Range can describe zero bytes: 200, empty.
        using var response = await SendAsync(HttpMethod.Get, "/api/files/r/empty.bin", "bytes=-5");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Null(response.Content.Headers.ContentRange);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync(Ct));
    }

    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string range)
    {
        var request = new HttpRequestMessage(method, path);
        if (range.Length > 0) Assert.True(request.Headers.TryAddWithoutValidation("Range", range));
        return _http.SendAsync(request, Ct);
    }

    private async Task AssertFilesUnchangedAsync()
    {
        Assert.Equal(["empty.bin", "ten.bin"], (await _client.ListAsync("/r", ct: Ct)).Entries.Select(e => e.Name));
        var ten = await _client.StatAsync("/r/ten.bin", Ct);
        Assert.Equal((10L, (int?)1), (ten.Size, ten.Version));
    }
}
