using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using Dfs.Gateway.Tests.Nodes;
using Dfs.Testing;
using StackExchange.Redis;

namespace Dfs.Gateway.Tests.Shared;

/// <summary>
/// Small chunks' bytes cached in the gateway and in a real Redis, shared by gateways over one PostgreSQL database: reads
/// stop reaching the node, a second gateway finds the bytes in Redis, bytes in Redis that do not hash to their id are never
/// served, and an overwrite through one gateway is what the next read through another returns.
/// </summary>
public sealed class ReadCacheTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static GatewayFactory Configure(GatewayFactory factory, string redis) => factory
        .WithCache(redis)
        // The scripted node does not heartbeat: it stays live for the test.
        .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
        .With("Dfs:Cluster:NodeDeadAfterMs", "600000")
        .With("Dfs:Gateway:ReplicationFactor", "1");

    [Fact]
    public async Task Small_chunks_come_from_memory_then_from_Redis_on_another_gateway_and_tampered_bytes_are_never_served()
    {
        await using var redisServer = await DfsServer.StartRedisAsync(Ct);
        await using var first = Configure(await GatewayFactory.CreateAsync(MetadataDatabases.Postgres), redisServer.ConnectionString);
        await using var node = await FakeNode.StartAsync("cache-node", FakeBehaviour.Store, Ct, servesReads: true);
        first.StartServer();
        await node.RegisterAsync(first, 1L << 30, Ct);
        var a = DfsRefit.Gateway(first.CreateClient());
        var data = TestBytes(4096, 1);
        await a.PutFileAsync("/cached/small.bin", new MemoryStream(data), ct: Ct);
        var chunk = Assert.Single((await a.StatAsync("/cached/small.bin", Ct)).Chunks).Id;

        // Written through this gateway: its memory has the bytes, the node is not asked.
        Assert.Equal(data, await ReadAsync(a, "/cached/small.bin"));
        Assert.Equal(data, await ReadAsync(a, "/cached/small.bin"));
        Assert.Equal(0, node.Reads);

        // Another gateway, its memory empty: Redis has them.
        await using var second = Configure(first.Restarted(), redisServer.ConnectionString);
        var b = DfsRefit.Gateway(second.CreateClient());
        Assert.Equal(data, await ReadAsync(b, "/cached/small.bin"));
        Assert.Equal(0, node.Reads);
        Assert.True((await InfoAsync(second)).ChunkCacheHits >= 1);

        // Bytes in Redis that are not the chunk's: a third gateway checks them, refuses them, and reads the node.
        await using (var redis = await ConnectionMultiplexer.ConnectAsync(redisServer.ConnectionString))
            await redis.GetDatabase().StringSetAsync("dfs:chunk:" + chunk, TestBytes(4096, 2));
        await using var third = Configure(first.Restarted(), redisServer.ConnectionString);
        var c = DfsRefit.Gateway(third.CreateClient());
        Assert.Equal(data, await ReadAsync(c, "/cached/small.bin"));
        Assert.Equal(1, node.Reads);

        // An overwrite through the first gateway is what the second reads next: which version a path names is never cached.
        var newer = TestBytes(4096, 3);
        await a.PutFileAsync("/cached/small.bin", new MemoryStream(newer), new PutFileOptions(ConflictPolicy.Overwrite), Ct);
        Assert.Equal(newer, await ReadAsync(b, "/cached/small.bin"));
        Assert.Equal(newer, await ReadAsync(c, "/cached/small.bin"));
    }

    [Fact]
    public async Task Chunks_above_the_size_limit_are_read_from_the_node_every_time()
    {
        await using var redisServer = await DfsServer.StartRedisAsync(Ct);
        await using var gateway = Configure(await GatewayFactory.CreateAsync(MetadataDatabases.Postgres), redisServer.ConnectionString)
            .With("Dfs:Gateway:Cache:SmallChunkBytes", "1024");
        await using var node = await FakeNode.StartAsync("big-node", FakeBehaviour.Store, Ct, servesReads: true);
        gateway.StartServer();
        await node.RegisterAsync(gateway, 1L << 30, Ct);
        var api = DfsRefit.Gateway(gateway.CreateClient());
        var data = TestBytes(4096, 4);
        await api.PutFileAsync("/uncached/big.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal(data, await ReadAsync(api, "/uncached/big.bin"));
        Assert.Equal(data, await ReadAsync(api, "/uncached/big.bin"));
        Assert.Equal(2, node.Reads);
    }

    private static byte[] TestBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    private static async Task<byte[]> ReadAsync(IGatewayApi api, string path)
    {
        await using var download = await api.GetFileAsync(path, ct: Ct);
        var bytes = new MemoryStream();
        await download.Content.CopyToAsync(bytes, Ct);
        return bytes.ToArray();
    }

    private static async Task<GatewayInstanceInfo> InfoAsync(GatewayFactory gateway)
    {
        using var client = gateway.CreateClient();
        return (await client.GetFromJsonAsync<GatewayInstanceInfo>(ApiRoutes.Gateway, Ct))!;
    }
}
