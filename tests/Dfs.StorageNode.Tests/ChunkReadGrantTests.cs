using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Security;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

/// <summary>
/// Reads with a grant the gateway signed: the one chunk, GET or HEAD, until it expires, and nothing else; any grant that
/// does not hold is 403 (problem details) and reveals nothing.
/// </summary>
public sealed class ChunkReadGrantTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private NodeHost _node = null!;
    private readonly ChunkReadGrant _grants = new(NodeHost.Secret);

    public ValueTask InitializeAsync()
    {
        _node = NodeHost.Start();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync() => _node.DisposeAsync();

    private async Task<(string Id, byte[] Bytes)> StoreAsync()
    {
        var (id, bytes) = TestChunks.Random(3000);
        Assert.True(await _node.Client.PutChunkAsync(_node.Url, id, bytes, Ct));
        return (id, bytes);
    }

    private string Granted(string id, DateTimeOffset expires, string? forChunk = null) => $"/chunks/{id}?{_grants.Query(forChunk ?? id, expires)}";

    private static async Task AssertForbiddenAsync(HttpResponseMessage response, string detail)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
        Assert.Contains(detail, problem!.Detail);
    }

    [Fact]
    public async Task A_valid_grant_reads_its_chunk_without_the_cluster_signature()
    {
        var (id, bytes) = await StoreAsync();
        var url = Granted(id, DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(bytes, await _node.UnsignedHttp.GetByteArrayAsync(url, Ct));
        using var head = await _node.UnsignedHttp.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
    }

    [Fact]
    public async Task An_expired_grant_is_403()
    {
        var (id, _) = await StoreAsync();
        using var response = await _node.UnsignedHttp.GetAsync(Granted(id, DateTimeOffset.UtcNow.AddSeconds(-2)), Ct);
        await AssertForbiddenAsync(response, "expired");
    }

    [Fact]
    public async Task A_grant_for_another_chunk_is_403()
    {
        var (id, _) = await StoreAsync();
        var (other, _) = await StoreAsync();
        using var response = await _node.UnsignedHttp.GetAsync(Granted(id, DateTimeOffset.UtcNow.AddMinutes(5), forChunk: other), Ct);
        await AssertForbiddenAsync(response, "not valid for this chunk");
    }

    [Theory]
    [InlineData("tampered")]
    [InlineData("later")]
    [InlineData("other-secret")]
    [InlineData("garbage")]
    public async Task A_tampered_grant_is_403(string how)
    {
        var (id, _) = await StoreAsync();
        var expires = DateTimeOffset.UtcNow.AddMinutes(5);
        var query = how switch
        {
            // One character of the MAC changed.
            "tampered" => Flip(_grants.Query(id, expires)),
            // The expiry pushed back with the MAC kept.
            "later" => _grants.Query(id, expires).Replace($"expires={expires.ToUnixTimeSeconds()}", $"expires={expires.AddDays(1).ToUnixTimeSeconds()}"),
            "other-secret" => new ChunkReadGrant("not-the-cluster-secret-0123456789").Query(id, expires),
            _ => "expires=soon&grant=abc",
        };
        using var response = await _node.UnsignedHttp.GetAsync($"/chunks/{id}?{query}", Ct);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_grant_allows_no_write_no_delete_and_no_listing()
    {
        var (id, _) = await StoreAsync();
        var url = Granted(id, DateTimeOffset.UtcNow.AddMinutes(5));
        var (newId, newBytes) = TestChunks.Random(200);
        using var put = await _node.UnsignedHttp.PutAsync($"/chunks/{newId}?{_grants.Query(newId, DateTimeOffset.UtcNow.AddMinutes(5))}", TestChunks.Content(newBytes), Ct);
        using var delete = await _node.UnsignedHttp.DeleteAsync(url, Ct);
        using var list = await _node.UnsignedHttp.GetAsync($"/chunks?{_grants.Query(id, DateTimeOffset.UtcNow.AddMinutes(5))}", Ct);
        await AssertForbiddenAsync(put, "only GET or HEAD of one chunk");
        await AssertForbiddenAsync(delete, "only GET or HEAD of one chunk");
        await AssertForbiddenAsync(list, "only GET or HEAD of one chunk");
        Assert.False(await _node.Client.HasChunkAsync(_node.Url, newId, Ct));
        Assert.True(await _node.Client.HasChunkAsync(_node.Url, id, Ct));
    }

    private static string Flip(string query)
    {
        var at = query.Length - 5;
        return query[..at] + (query[at] == 'A' ? 'B' : 'A') + query[(at + 1)..];
    }
}
