using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Files;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using Dfs.Testing;

namespace Dfs.Gateway.Tests.Shared;

/// <summary>
/// Two gateways over one PostgreSQL database and one real Redis, in this process: a rate budget they share, and what a
/// gateway does when Redis cannot be reached (serves from the metadata, caches nothing it cannot check).
/// </summary>
public sealed class SharedStateTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_rate_limit_is_one_budget_across_gateways_not_one_per_gateway()
    {
        await using var redis = await DfsServer.StartRedisAsync(Ct);
        await using var first = (await GatewayFactory.CreateAsync(MetadataDatabases.Postgres)).WithCache(redis.ConnectionString).Tiny();
        await using var second = first.Restarted().WithCache(redis.ConnectionString).Tiny();
        using var a = first.CreateAnonymousClient();
        using var b = second.CreateAnonymousClient();

        // Twenty at once, half through each gateway, from one address: one bucket of six (plus what a second refills).
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? a : b).GetAsync(ApiRoutes.WhoAmI, Ct)));
        var served = responses.Count(r => r.StatusCode != HttpStatusCode.TooManyRequests);
        Assert.InRange(served, 1, 8);
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.TooManyRequests && r.Headers.RetryAfter is not null);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, (HttpStatusCode[])[HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]));
    }

    [Fact]
    public async Task Without_Redis_the_gateway_serves_from_the_metadata_caches_no_credential_and_refuses_a_revoked_token_at_once()
    {
        // A port nothing listens on: Redis is down from the start.
        await using var factory = (await GatewayFactory.CreateAsync(MetadataDatabases.Postgres)).WithCache("127.0.0.1:1");
        using var admin = factory.CreateClient();
        var gateway = DfsRefit.Gateway(admin);
        await gateway.MkdirAsync("/no-redis/inside", parents: true, Ct);
        Assert.Contains((await gateway.ListAsync("/no-redis", ct: Ct)).Entries, e => e.Name == "inside");

        var token = await gateway.CreateTokenAsync("no-redis", ct: Ct);
        using var bearer = factory.CreateClient(new AuthenticationHeaderValue("Bearer", token.Token));
        Assert.Equal(HttpStatusCode.OK, (await bearer.GetAsync(ApiRoutes.WhoAmI, Ct)).StatusCode);
        await gateway.RevokeTokenAsync(token.Id, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, (await bearer.GetAsync(ApiRoutes.WhoAmI, Ct)).StatusCode);

        var info = await admin.GetFromJsonAsync<GatewayInstanceInfo>(ApiRoutes.Gateway, Ct);
        Assert.NotNull(info);
        Assert.Equal("redis", info.SharedState);
        Assert.False(info.SharedStateReachable);
        Assert.Equal(0, info.CredentialCacheHits);
        Assert.True(info.SharedStateUnreachable > 0);
    }

    [Fact]
    public async Task A_hundred_uploads_at_once_on_PostgreSQL_all_succeed_each_holding_its_leases()
    {
        // Each upload holds a lease connection while the metadata's pool serves the commits: together they must stay within
        // what the server accepts (the lease pool is capped; the local profile's PostgreSQL takes 500 connections).
        await using var gateway = await GatewayFactory.CreateAsync(MetadataDatabases.Postgres);
        gateway.With("Dfs:Cluster:NodeSuspectAfterMs", "600000").With("Dfs:Cluster:NodeDeadAfterMs", "600000")
            .With("Dfs:Gateway:ReplicationFactor", "1").With("Dfs:Gateway:RateLimit:PermitsPerSecond", "100000").With("Dfs:Gateway:RateLimit:Burst", "100000");
        await using var node = await Nodes.FakeNode.StartAsync("many-uploads", Nodes.FakeBehaviour.Store, Ct, servesReads: true);
        gateway.StartServer();
        await node.RegisterAsync(gateway, 1L << 30, Ct);
        var api = DfsRefit.Gateway(gateway.CreateClient());
        var uploads = Enumerable.Range(0, 100).Select(i =>
            api.PutFileAsync($"/many/{i}.bin", new MemoryStream(Guid.NewGuid().ToByteArray()), ct: Ct));
        var results = await Task.WhenAll(uploads);
        Assert.Equal(100, results.Select(r => r.Path).Distinct().Count());
        Assert.Equal(100, (await api.ListAsync("/many", ct: Ct)).Entries.Count);
    }

    [Fact]
    public async Task Chunk_leases_in_PostgreSQL_keep_one_gateways_upload_and_anothers_collection_apart()
    {
        var server = await PostgresServer.GetAsync();
        await using var uploading = new PostgresChunkLeases(server.ConnectionString);
        await using var collecting = new PostgresChunkLeases(server.ConnectionString);
        var chunk = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Guid.NewGuid().ToByteArray()));

        // An upload on one gateway holds the chunk: the other's collection must leave it.
        var upload = uploading.BeginUpload();
        await upload.HoldAsync(chunk, Ct);
        Assert.Null(await collecting.TryAcquireForDeleteAsync(chunk, Ct));
        await upload.DisposeAsync();

        // Collection holds it: an upload of the same content waits until the deletion is over.
        var deleting = await collecting.TryAcquireForDeleteAsync(chunk, Ct);
        Assert.NotNull(deleting);
        await using var next = uploading.BeginUpload();
        var waiting = next.HoldAsync(chunk, Ct);
        await Task.Delay(300, Ct);
        Assert.False(waiting.IsCompleted, "an upload took a chunk that collection was deleting");
        await deleting.DisposeAsync();
        await waiting.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Null(await collecting.TryAcquireForDeleteAsync(chunk, Ct));
    }
}

internal static class SharedStateFactoryExtensions
{
    public static GatewayFactory WithCache(this GatewayFactory factory, string connectionString) =>
        factory.With("ConnectionStrings:cache", connectionString);

    /// <summary>One request a second, six at once.</summary>
    public static GatewayFactory Tiny(this GatewayFactory factory) =>
        factory.With("Dfs:Gateway:RateLimit:PermitsPerSecond", "1").With("Dfs:Gateway:RateLimit:Burst", "6");
}
