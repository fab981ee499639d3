using Dfs.AppHost.Cluster;
using Dfs.Contracts.Clients;
using Dfs.IntegrationTests.Support;
using Dfs.Gateway.Tests.Console;

namespace Dfs.IntegrationTests;

/// <summary>
/// The web console's browser scenario (the one Dfs.Gateway.Tests runs against its in-process gateway) against a full
/// local cluster's gateway: real storage nodes, PostgreSQL, RabbitMQ's error queues, the Replicator. It drains a node
/// and cancels the drain, so it runs with the tests that disturb nodes.
/// </summary>
[Collection(FaultCollection.Name)]
[Trait("Category", "Browser")]
public sealed class ConsoleBrowserTests(FaultClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_browser_signs_in_uploads_downloads_and_drains_a_node_of_a_full_cluster()
    {
        var started = DateTime.UtcNow;
        var screenshots = Path.Combine(Built.RepositoryRoot, "artifacts", "screenshots", "cluster");
        // Something stored before, so the drained node holds chunks and the totals count files.
        await cluster.Gateway.PutFileAsync("/console-before.bin", new MemoryStream(TestData.Random(2 * ClusterFixture.ChunkSize, 301)), ct: Ct);
        try
        {
            // Three chunks of the cluster's 1 MiB: the browser's upload and download cross chunk boundaries.
            await new ConsoleBrowserScenario(cluster.App.GatewayUrl, AdminPassword.User, DfsClusterOptions.AdminPassword) { FileSize = 2_500_000 }
                .RunAsync(screenshots, Ct);

            // The scenario left the cluster as it found it: no drain, its folder gone.
            Assert.All(await cluster.Gateway.GetNodesAsync(Ct), n => Assert.False(n.Draining, $"{n.Name} is still draining"));
            Assert.DoesNotContain((await cluster.Gateway.ListAsync("/", ct: Ct)).Entries, e => e.Name.StartsWith("console-browser-", StringComparison.Ordinal));
            foreach (var screenshot in new[] { "console-cluster.png", "console-files.png" })
            {
                var file = new FileInfo(Path.Combine(screenshots, screenshot));
                Assert.True(file.Exists && file.Length > 10_000 && file.LastWriteTimeUtc >= started, $"{screenshot} was not written by this run");
            }
        }
        finally
        {
            // Whatever step failed, no node stays out of placement for the next tests.
            foreach (var node in (await cluster.Gateway.GetNodesAsync(CancellationToken.None)).Where(n => n.Draining))
                await cluster.Gateway.CancelDrainAsync(node.Name, CancellationToken.None);
            await cluster.Gateway.DeleteAsync("/console-before.bin", recursive: false, CancellationToken.None);
        }
    }
}
