using System.Security.Cryptography;
using System.Text.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>The real `dfs` executable against the real cluster.</summary>
[Collection(ClusterCollection.Name)]
public sealed class CliEndToEndTests(ClusterFixture cluster) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly DirectoryInfo _local = Directory.CreateTempSubdirectory("dfs-cli-");

    public void Dispose() => _local.Delete(recursive: true);

    [Fact]
    public async Task Namespace_commands_work_end_to_end()
    {
        var local = Path.Combine(_local.FullName, "note.txt");
        await File.WriteAllTextAsync(local, "hello dfs", Ct);

        Assert.Equal(0, (await RunAsync("mkdir", "-p", "/cli-ns/docs/deep")).ExitCode);
        Assert.Equal(0, (await RunAsync("put", local, "/cli-ns/docs/")).ExitCode);
        Assert.Equal(4, (await RunAsync("put", local, "/cli-ns/docs/note.txt")).ExitCode);
        var renamed = await RunAsync("put", local, "/cli-ns/docs/note.txt", "--conflict", "rename");
        Assert.Equal(0, renamed.ExitCode);
        Assert.Contains("note (1).txt", renamed.Stdout + renamed.Stderr);

        var ls = await RunAsync("ls", "/cli-ns/docs", "--json");
        var entries = JsonSerializer.Deserialize<List<EntryInfo>>(ls.Stdout, DfsJson.Options)!;
        Assert.Equal(["deep", "note (1).txt", "note.txt"], entries.Select(e => e.Name));

        var stat = await RunAsync("stat", "/cli-ns/docs/note.txt", "--json");
        var details = JsonSerializer.Deserialize<EntryDetails>(stat.Stdout, DfsJson.Options)!;
        Assert.Equal(9, details.Size);
        Assert.Single(details.Chunks);
        Assert.NotEmpty(details.Chunks[0].Replicas);

        Assert.Equal(0, (await RunAsync("mv", "/cli-ns/docs", "/cli-ns/papers")).ExitCode);
        var tree = await RunAsync("tree", "/cli-ns");
        Assert.Contains("papers", tree.Stdout);
        Assert.Contains("note.txt", tree.Stdout);

        Assert.NotEqual(0, (await RunAsync("rm", "/cli-ns/papers")).ExitCode);
        Assert.Equal(0, (await RunAsync("rm", "-r", "/cli-ns/papers")).ExitCode);
        Assert.Equal(3, (await RunAsync("stat", "/cli-ns/papers")).ExitCode);

        var nodes = await RunAsync("nodes", "--json");
        var list = JsonSerializer.Deserialize<List<NodeInfo>>(nodes.Stdout, DfsJson.Options)!;
        Assert.Contains(list, n => n.Name == "node-1" && n.State == NodeStates.Live);

        // Refused as a bad path, by the CLI (2) or the gateway (7), never created.
        Assert.Contains((await RunAsync("mkdir", "/cli-ns/bad\u0001name")).ExitCode, new[] { 2, 7 });
    }

    [Fact]
    public async Task Get_of_a_corrupted_file_fails_clearly_and_leaves_no_partial_file()
    {
        var data = TestData.Random(300_000, 51);
        await cluster.Gateway.PutFileAsync("/cli/corrupt.bin", new MemoryStream(data), ct: Ct);
        var chunk = (await cluster.Gateway.StatAsync("/cli/corrupt.bin", Ct)).Chunks.Single();
        var file = cluster.ChunkFile(chunk.Replicas[0].NodeName, chunk.Id);
        var original = await File.ReadAllBytesAsync(file, Ct);
        try
        {
            FaultTests.FlipByte(file, 5);
            var get = await RunAsync("get", "/cli/corrupt.bin", Path.Combine(_local.FullName, "corrupt.bin"));
            Assert.NotEqual(0, get.ExitCode);
            Assert.Contains("dfs:", get.Stderr);
            Assert.Empty(Directory.GetFileSystemEntries(_local.FullName));
        }
        finally
        {
            await File.WriteAllBytesAsync(file, original, Ct);
        }
    }

    [Fact]
    public async Task The_shell_runs_commands_with_relative_paths_from_piped_input()
    {
        var local = Path.Combine(_local.FullName, "in-shell.txt");
        await File.WriteAllTextAsync(local, "shell bytes", Ct);
        var script = $"""
            mkdir -p /shell/work
            cd /shell/work
            pwd
            put "{local}" in-shell.txt
            ls
            help
            help put
            history
            exit
            """;
        var shell = await RunWithInputAsync(script, "shell");
        Assert.Equal(0, shell.ExitCode);
        Assert.Contains("/shell/work", shell.Stdout);
        Assert.Contains("in-shell.txt", shell.Stdout);
        Assert.Contains("mkdir", shell.Stdout);
        await using var download = await cluster.Gateway.GetFileAsync("/shell/work/in-shell.txt", ct: Ct);
        Assert.Equal("shell bytes", await new StreamReader(download.Content).ReadToEndAsync(Ct));
    }

    private Task<DfsCli.Run> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    private Task<DfsCli.Run> RunWithInputAsync(string? stdin, params string[] args) =>
        DfsCli.RunAsync(_local.FullName, new Dictionary<string, string>
            {
                ["DFS_STATE_DIR"] = _local.FullName + "/no-state",
                // The cluster's first admin, over HTTP Basic.
                ["DFS_USER"] = AdminPassword.User,
                ["DFS_PASSWORD"] = cluster.App.GatewayAdminPassword!,
            }, stdin,
            ["--gateway", cluster.App.GetEndpoint("gateway").ToString(), .. args], Ct);

    private static async Task<string> Sha256FileAsync(string path)
    {
        await using var file = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(file));
    }

}
