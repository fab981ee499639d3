using System.Net;
using Dfs.StorageNode.Tests.Infrastructure;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Tests;

public sealed class StartupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Dfs:StorageNode:DataDir", "")]
    [InlineData("Dfs:StorageNode:CapacityBytes", "0")]
    [InlineData("Dfs:StorageNode:ReserveBytes", "-1")]
    [InlineData("Dfs:StorageNode:MaxChunkBytes", "0")]
    [InlineData("Dfs:StorageNode:AdvertisedUrl", "not a url")]
    [InlineData("Dfs:Cluster:HeartbeatIntervalMs", "0")]
    public void Invalid_options_stop_the_node_at_start(string key, string value)
    {
        var error = Assert.ThrowsAny<Exception>(() => NodeHost.Start(new Dictionary<string, string?> { [key] = value }));
        Assert.True(error.GetBaseException() is OptionsValidationException, error.ToString());
    }

    [Fact]
    public async Task A_standalone_node_is_healthy_and_listens_on_loopback()
    {
        await using var node = NodeHost.Start();

        using var health = await node.Http.GetAsync("health", Ct);
        using var alive = await node.Http.GetAsync("alive", Ct);

        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, alive.StatusCode);
        Assert.Equal("127.0.0.1", node.Url.Host);
        Assert.NotEqual(0, node.Url.Port);
    }
}
