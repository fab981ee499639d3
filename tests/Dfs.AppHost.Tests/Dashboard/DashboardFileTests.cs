using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>Files through the dashboard: uploads and downloads stream via the gateway; the pages show the namespace and where chunks live.</summary>
[Trait("Category", "Dashboard")]
public sealed class DashboardFileTests
{
    private const long ChunkSize = 64 * 1024;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Files_go_up_and_come_back_through_the_dashboard_and_their_chunks_are_shown()
    {
        await using var cluster = await DashboardCluster.StartAsync(Ct, o => o.ChunkSizeBytes = ChunkSize);
        const string dir = "/dash board";
        const string path = dir + "/résumé 1.bin";
        var urlPath = "dash%20board/r%C3%A9sum%C3%A9%201.bin";
        var bytes = RandomNumberGenerator.GetBytes((int)(ChunkSize * 3 + 1234));
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));

        using (var response = await cluster.Api.PutAsync("/api/dirs/dash%20board?parents=true", null, Ct))
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        // Upload: the body streams through to the gateway, whose answer comes back as it is.
        PutFileResult put;
        using (var content = new StreamContent(new MemoryStream(bytes)))
        {
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var response = await cluster.Api.PutAsync($"/api/files/{urlPath}", content, Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(bytes))}\"", response.Headers.ETag?.Tag);
            put = (await response.Content.ReadFromJsonAsync<PutFileResult>(DfsJson.Options, Ct))!;
        }
        Assert.Equal(path, put.Path);
        Assert.Equal(bytes.Length, put.Size);
        Assert.Equal(sha, put.Sha256);
        Assert.Equal(4, put.ChunkCount);

        // The conflict policy passes through, and so do the gateway's problems.
        using (var again = new ByteArrayContent(bytes))
        {
            using var refused = await cluster.Api.PutAsync($"/api/files/{urlPath}", again, Ct);
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Contains("already exists", (await refused.Content.ReadFromJsonAsync<ProblemJson>(DfsJson.Options, Ct))!.Detail);
        }
        using (var again = new ByteArrayContent(bytes))
        {
            using var overwritten = await cluster.Api.PutAsync($"/api/files/{urlPath}?conflict=overwrite", again, Ct);
            Assert.Equal(HttpStatusCode.Created, overwritten.StatusCode);
            Assert.Equal(2, (await overwritten.Content.ReadFromJsonAsync<PutFileResult>(DfsJson.Options, Ct))!.Version);
        }

        // Download: identical bytes, as an attachment named after the file, with the gateway's integrity headers.
        using (var response = await cluster.Api.GetAsync($"/api/files/{urlPath}", HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal("résumé 1.bin", response.Content.Headers.ContentDisposition?.FileNameStar);
            Assert.Equal(bytes.Length, response.Content.Headers.ContentLength);
            Assert.Contains(":" + Convert.ToBase64String(Convert.FromHexString(sha)) + ":", string.Join(",", response.Headers.GetValues("Repr-Digest")));
            Assert.Equal(sha, Convert.ToHexStringLower(await SHA256.HashDataAsync(await response.Content.ReadAsStreamAsync(Ct), Ct)));
        }
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/api/files/{urlPath}"))
        {
            request.Headers.Range = new RangeHeaderValue(10, 19);
            using var partial = await cluster.Api.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(bytes[10..20], await partial.Content.ReadAsByteArrayAsync(Ct));
        }
        await DashboardResourceTests.AssertProblemAsync(await cluster.Api.GetAsync("/api/files/dash%20board/missing.bin", Ct), HttpStatusCode.NotFound, "missing.bin");
        // Dot segments would be collapsed on the way on and could name another gateway route (HttpClient collapses them too: raw request).
        Assert.StartsWith("HTTP/1.1 400", await RawGetAsync(cluster, "/api/files/dash%20board/%2e%2e/dirs/x"));

        // The listing page shows the file with its download link.
        var listing = await cluster.Api.GetStringAsync("/files?path=" + Uri.EscapeDataString(dir), Ct);
        Assert.Contains("data-name=\"résumé 1.bin\"", WebUtility.HtmlDecode(listing));
        Assert.Contains($"href=\"/api/files/{urlPath}\"", listing);
        Assert.Contains("id=\"upload-file\"", listing);
        var root = await cluster.Api.GetStringAsync("/files", Ct);
        Assert.Contains("data-name=\"dash board\" data-kind=\"directory\"", root);

        // The detail page: size, digests, and for each chunk the nodes the gateway says hold it.
        using var gatewayHttp = cluster.App.CreateHttpClient("gateway");
        var gateway = new GatewayClient(gatewayHttp);
        // Settled first: the Replicator may still be adding second copies, and the page must match the gateway's answer.
        await Procs.EventuallyAsync(() => gateway.StatAsync(path, Ct).Result.Chunks.All(c => c.Replicas.Count == 2),
            TimeSpan.FromSeconds(20), "two copies of every chunk");
        var stat = await gateway.StatAsync(path, Ct);
        Assert.Equal(4, stat.Chunks.Count);
        var details = await cluster.Api.GetStringAsync("/files?path=" + Uri.EscapeDataString(path), Ct);
        Assert.Contains(sha, details);
        Assert.Contains($"({bytes.Length.ToString("N0", CultureInfo.InvariantCulture)} bytes)", details);
        foreach (var chunk in stat.Chunks)
        {
            var row = Regex.Match(details, $"<tr data-chunk=\"{chunk.Index}\" data-chunk-id=\"{chunk.Id}\">.*?</tr>").Value;
            Assert.NotEmpty(row);
            Assert.NotEmpty(chunk.Replicas);
            foreach (var replica in chunk.Replicas) Assert.Contains($"data-node=\"{replica.NodeName}\"", row);
            Assert.Equal(chunk.Replicas.Count, Regex.Matches(row, "data-node=").Count);
        }

        // The cluster page counts it, and says so plainly when the gateway is down.
        var clusterPage = await cluster.Api.GetStringAsync("/cluster", Ct);
        Assert.Contains("data-node=\"node-1\"", clusterPage);
        Assert.Contains("data-node=\"node-2\"", clusterPage);
        Assert.Contains("data-metric=\"files\"><div class=\"label\">Files</div><div class=\"value\">1</div>", clusterPage);
        Assert.Contains("id=\"replication\"", clusterPage);
        Assert.Contains("data-metric=\"under-replicated\"><div class=\"label\">Under-replicated chunks</div>", clusterPage);
        Assert.Contains("data-metric=\"backlog\"><div class=\"label\">Replication backlog</div>", clusterPage);

        await DashboardResourceTests.PostAsync(cluster, "/api/resources/gateway/stop", HttpStatusCode.OK);
        var down = await cluster.Api.GetStringAsync("/cluster?partial=1", Ct);
        Assert.Contains("id=\"gateway-down\"", down);
        Assert.Contains("not running", down);
        await DashboardResourceTests.AssertProblemAsync(await cluster.Api.GetAsync($"/api/files/{urlPath}", Ct), HttpStatusCode.ServiceUnavailable, "gateway");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await cluster.Api.GetAsync("/files", Ct)).StatusCode);
        // A node cannot be started while what it waits for is down.
        await DashboardResourceTests.PostAsync(cluster, "/api/resources/node-1/stop", HttpStatusCode.OK);
        await DashboardResourceTests.AssertProblemAsync(await cluster.Api.PostAsync("/api/resources/node-1/start", null, Ct), HttpStatusCode.Conflict, "gateway");
        await DashboardResourceTests.PostAsync(cluster, "/api/resources/gateway/start", HttpStatusCode.OK);
        await DashboardResourceTests.PostAsync(cluster, "/api/resources/node-1/start", HttpStatusCode.OK);
        await Procs.EventuallyAsync(() => cluster.Api.GetStringAsync("/cluster?partial=1", Ct).Result.Contains("data-metric=\"files\""),
            TimeSpan.FromSeconds(10), "the cluster page to show the gateway's numbers again");
    }

    /// <summary>The status line of a GET sent exactly as written.</summary>
    private static async Task<string> RawGetAsync(DashboardCluster cluster, string target)
    {
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(cluster.Url.Host, cluster.Url.Port, Ct);
        await using var stream = tcp.GetStream();
        var request = $"GET {target} HTTP/1.1\r\nHost: {cluster.Url.Authority}\r\nAuthorization: Bearer {cluster.Token}\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes(request), Ct);
        using var reader = new StreamReader(stream);
        return await reader.ReadLineAsync(Ct) ?? "";
    }
}
