using System.Net;
using System.Text.RegularExpressions;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

public sealed partial class StartupTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData("Dfs__StorageNode__DataDir", "", "DataDir")]
    [InlineData("Dfs__StorageNode__CapacityBytes", "0", "CapacityBytes")]
    [InlineData("Dfs__StorageNode__ReserveBytes", "-1", "ReserveBytes")]
    [InlineData("Dfs__StorageNode__MaxChunkBytes", "0", "MaxChunkBytes")]
    [InlineData("Dfs__StorageNode__AdvertisedUrl", "not a url", "AdvertisedUrl")]
    [InlineData("Dfs__Cluster__HeartbeatIntervalMs", "0", "HeartbeatIntervalMs")]
    [InlineData("Dfs__StorageNode__Scrub__BytesPerSecond", "-1", "Dfs:StorageNode:Scrub:BytesPerSecond must be 0 (scrubbing off) or a positive number")]
    [InlineData("Dfs__StorageNode__Scrub__PeriodSeconds", "0", "Dfs:StorageNode:Scrub:PeriodSeconds must be a whole number of seconds")]
    public async Task Invalid_options_stop_the_node_at_start(string key, string value, string named)
    {
        using var dataDir = new TempDir();
        using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["Dfs__StorageNode__DataDir"] = dataDir.Path,
            [key] = value,
        });

        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), node.Output);
        Assert.NotEqual(0, node.ExitCode);
        Assert.Contains("OptionsValidationException", node.Output);
        Assert.Contains(named, node.Output);
    }

    [Fact]
    public async Task A_node_process_listens_where_ASPNETCORE_URLS_says_and_is_healthy_standalone()
    {
        using var dataDir = new TempDir();
        using var node = NodeProcess.Start(new Dictionary<string, string> { ["Dfs__StorageNode__DataDir"] = dataDir.Path });

        Uri? url = null;
        Assert.True(await TestChunks.EventuallyAsync(() => (url = ListeningOn(node.Output)) is not null || node.HasExited, TimeSpan.FromSeconds(60)), node.Output);
        Assert.NotNull(url);
        using var http = new HttpClient { BaseAddress = url };

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("alive", Ct)).StatusCode);
        Assert.True(File.Exists(Path.Combine(dataDir.Path, "node-id")));
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

    private static Uri? ListeningOn(string output) =>
        ListeningRegex().Match(output) is { Success: true } match ? new Uri(match.Groups[1].Value) : null;

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningRegex();
}
