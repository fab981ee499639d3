using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Dfs.Contracts.Api;
using Dfs.Contracts.Security;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

/// <summary>Only the cluster reaches a node's chunks: requests must carry a current signature made with the cluster's secret.</summary>
public sealed partial class ClusterTrustTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private NodeHost _node = null!;

    public ValueTask InitializeAsync()
    {
        _node = NodeHost.Start();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private async Task<string> StoreAsync(int length = 1000)
    {
        var (id, bytes) = TestChunks.Random(length);
        Assert.True(await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct));
        return id;
    }

    /// <summary>A request whose signature header the test chooses (null: none).</summary>
    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string target, string? signature, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, target) { Content = content };
        if (signature is not null) request.Headers.TryAddWithoutValidation(ClusterSignature.HeaderName, signature);
        return _node.UnsignedHttp.SendAsync(request, Ct);
    }

    private static async Task AssertUnauthorizedProblemAsync(HttpResponseMessage response, string detail)
    {
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
        Assert.Equal(401, problem!.Status);
        Assert.Contains(detail, problem.Detail);
    }

    [Fact]
    public async Task An_unsigned_request_is_refused_on_every_endpoint_but_health()
    {
        var id = await StoreAsync();
        var (newId, newBytes) = TestChunks.Random(500);

        using var get = await SendAsync(HttpMethod.Get, $"/chunks/{id}", null);
        using var head = await SendAsync(HttpMethod.Head, $"/chunks/{id}", null);
        using var put = await SendAsync(HttpMethod.Put, $"/chunks/{newId}", null, TestChunks.Content(newBytes));
        using var delete = await SendAsync(HttpMethod.Delete, $"/chunks/{id}", null);
        using var list = await SendAsync(HttpMethod.Get, "/chunks?limit=10", null);
        using var status = await SendAsync(HttpMethod.Get, "/status", null);

        await AssertUnauthorizedProblemAsync(get, ClusterSignature.HeaderName);
        Assert.Equal(HttpStatusCode.Unauthorized, head.StatusCode);
        await AssertUnauthorizedProblemAsync(put, ClusterSignature.HeaderName);
        await AssertUnauthorizedProblemAsync(delete, ClusterSignature.HeaderName);
        await AssertUnauthorizedProblemAsync(list, ClusterSignature.HeaderName);
        await AssertUnauthorizedProblemAsync(status, ClusterSignature.HeaderName);
        // Nothing was stored or deleted.
        Assert.False(await _node.Client.HasChunkAsync(_node.Url, newId, Ct));
        Assert.True(await _node.Client.HasChunkAsync(_node.Url, id, Ct));

        Assert.Equal(HttpStatusCode.OK, (await _node.UnsignedHttp.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _node.UnsignedHttp.GetAsync("/alive", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_signature_made_with_another_secret_is_refused()
    {
        var id = await StoreAsync();
        var wrong = new ClusterSignature("another-clusters-secret-0123456789").Sign("GET", $"/chunks/{id}", DateTimeOffset.UtcNow);

        using var response = await SendAsync(HttpMethod.Get, $"/chunks/{id}", wrong);

        await AssertUnauthorizedProblemAsync(response, "not valid");
    }

    [Theory]
    [InlineData(-120)]
    [InlineData(120)]
    public async Task A_signature_from_outside_the_sixty_second_window_is_refused(int offsetSeconds)
    {
        var id = await StoreAsync();
        var stale = new ClusterSignature(NodeHost.Secret).Sign("GET", $"/chunks/{id}", DateTimeOffset.UtcNow.AddSeconds(offsetSeconds));

        using var response = await SendAsync(HttpMethod.Get, $"/chunks/{id}", stale);

        await AssertUnauthorizedProblemAsync(response, "60 s");
    }

    [Fact]
    public async Task A_signature_for_another_path_query_or_method_is_refused()
    {
        var id = await StoreAsync();
        var other = await StoreAsync();
        var signature = new ClusterSignature(NodeHost.Secret);
        var now = DateTimeOffset.UtcNow;

        using var otherPath = await SendAsync(HttpMethod.Delete, $"/chunks/{other}", signature.Sign("DELETE", $"/chunks/{id}", now));
        using var otherQuery = await SendAsync(HttpMethod.Get, "/chunks?limit=1000", signature.Sign("GET", "/chunks?limit=1", now));
        using var otherMethod = await SendAsync(HttpMethod.Delete, $"/chunks/{id}", signature.Sign("GET", $"/chunks/{id}", now));

        await AssertUnauthorizedProblemAsync(otherPath, "not valid");
        await AssertUnauthorizedProblemAsync(otherQuery, "not valid");
        await AssertUnauthorizedProblemAsync(otherMethod, "not valid");
        Assert.True(await _node.Client.HasChunkAsync(_node.Url, id, Ct));
        Assert.True(await _node.Client.HasChunkAsync(_node.Url, other, Ct));
    }

    [Fact]
    public async Task A_correctly_signed_request_is_served()
    {
        var (id, bytes) = TestChunks.Random(2000);
        var signature = new ClusterSignature(NodeHost.Secret);

        using var put = await SendAsync(HttpMethod.Put, $"/chunks/{id}", signature.Sign("PUT", $"/chunks/{id}", DateTimeOffset.UtcNow), TestChunks.Content(bytes));
        using var get = await SendAsync(HttpMethod.Get, $"/chunks/{id}", signature.Sign("GET", $"/chunks/{id}", DateTimeOffset.UtcNow.AddSeconds(-30)));

        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(bytes, await get.Content.ReadAsByteArrayAsync(Ct));
    }

    [Fact]
    public async Task The_node_signs_its_registration_and_heartbeats_and_a_gateway_with_another_secret_never_accepts_it()
    {
        await using (var gateway = await RecordingGateway.StartAsync(Ct))
        await using (NodeHost.Start(new Dictionary<string, string?>
        {
            ["services:gateway:http:0"] = gateway.Url.ToString(),
            ["Dfs:Cluster:HeartbeatIntervalMs"] = "100",
        }))
        {
            Assert.True(await TestChunks.EventuallyAsync(() => gateway.Registrations.Count == 1 && gateway.Heartbeats.Count >= 2));
            Assert.Equal(0, gateway.UnsignedAttempts);
        }

        await using var strange = await RecordingGateway.StartAsync(Ct, secret: "another-clusters-secret-0123456789");
        await using var node = NodeHost.Start(new Dictionary<string, string?> { ["services:gateway:http:0"] = strange.Url.ToString() });
        Assert.True(await TestChunks.EventuallyAsync(() => strange.UnsignedAttempts >= 2));
        Assert.Empty(strange.Registrations);
        Assert.False(node.Registration.HasRegistered);
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    public async Task A_node_without_a_usable_secret_refuses_to_start_and_says_why(string secret)
    {
        using var dataDir = new TempDir();
        using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["Dfs__StorageNode__DataDir"] = dataDir.Path,
            ["Dfs__Cluster__Secret"] = secret,
        });

        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), node.Output);
        Assert.NotEqual(0, node.ExitCode);
        Assert.Contains("Dfs:Cluster:Secret", node.Output);
        Assert.Contains(secret.Length == 0 ? "is not set" : "at least 16 characters", node.Output);
    }

    [Fact]
    public async Task Without_configured_urls_a_node_listens_on_127_0_0_1_only()
    {
        using var dataDir = new TempDir();
        using var node = NodeProcess.Start(new Dictionary<string, string> { ["Dfs__StorageNode__DataDir"] = dataDir.Path }, urls: null);

        Assert.True(await TestChunks.EventuallyAsync(() => node.Output.Contains("Application started") || node.HasExited, TimeSpan.FromSeconds(60)), node.Output);
        var addresses = ListeningRegex().Matches(node.Output).Select(m => new Uri(m.Groups[1].Value)).ToList();
        var address = Assert.Single(addresses);
        Assert.Equal("127.0.0.1", address.Host);
        Assert.NotEqual(0, address.Port);
        using var http = new HttpClient { BaseAddress = address };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", Ct)).StatusCode);
    }

    [GeneratedRegex(@"Now listening on: (\S+)")]
    private static partial Regex ListeningRegex();
}
