using Dfs.Contracts.Clients;
using System.Security.Cryptography;
using Dfs.Gateway.Tests.Api;
using static Dfs.Gateway.Tests.Console.ConsoleKit;

namespace Dfs.Gateway.Tests.Console;

/// <summary>The console in Debian's chromium, against this project's in-process gateway and three scripted storage nodes.</summary>
[Trait("Category", "Browser")]
public sealed class ConsoleBrowserTests
{
    [Fact]
    public async Task A_browser_signs_in_browses_uploads_downloads_and_drains_a_node()
    {
        var started = DateTime.UtcNow;
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "node-1", "node-2", "node-3");
        // Something stored before, so the drained node holds chunks.
        await AdminApi(gateway).PutFileAsync("/before.bin", new MemoryStream(RandomNumberGenerator.GetBytes(200_000)), ct: Ct);

        await new ConsoleBrowserScenario(Address(gateway), GatewayFactory.AdminUser, GatewayFactory.AdminPassword)
            .RunAsync(Path.Combine(RepositoryRoot(), "artifacts", "screenshots"), Ct);

        // The scenario left the cluster as it found it.
        Assert.All(await AdminApi(gateway).GetNodesAsync(Ct), n => Assert.False(n.Draining));
        Assert.Equal(["before.bin", "home"], (await AdminApi(gateway).ListAsync("/", ct: Ct)).Entries.Select(e => e.Name));
        foreach (var screenshot in new[] { "console-cluster.png", "console-files.png" })
        {
            var file = new FileInfo(Path.Combine(RepositoryRoot(), "artifacts", "screenshots", screenshot));
            Assert.True(file.Exists && file.Length > 10_000 && file.LastWriteTimeUtc >= started, $"{screenshot} was not written by this run");
        }
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Dfs.sln"))) return dir.FullName;
        throw new InvalidOperationException("Dfs.sln not found above " + AppContext.BaseDirectory);
    }
}
