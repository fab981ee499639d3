using System.Text.Json;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;

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
    public async Task Get_reads_the_chunks_straight_from_the_nodes_and_verifies_the_file()
    {
        var data = TestData.Random(3 * ClusterFixture.ChunkSize + 4321, 52);
        await cluster.Gateway.PutFileAsync("/cli/direct.bin", new MemoryStream(data), ct: Ct);
        var target = Path.Combine(_local.FullName, "direct.bin");
        var get = await RunAsync("get", "/cli/direct.bin", target);
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Contains($"sha256 {TestData.Sha256(data)}, verified; 4 of 4 chunks straight from the nodes", get.Stdout);
        Assert.Equal(data, await File.ReadAllBytesAsync(target, Ct));
        Assert.Equal(["direct.bin"], Directory.GetFileSystemEntries(_local.FullName).Select(Path.GetFileName));
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

    [Fact]
    public async Task Ls_recursive_and_tree_walk_a_nested_folder_depth_first()
    {
        await cluster.Gateway.MkdirAsync("/cli-tree/a/b", parents: true, Ct);
        await cluster.Gateway.MkdirAsync("/cli-tree/a/empty", parents: true, Ct);
        await cluster.Gateway.PutFileAsync("/cli-tree/a/b/deep.txt", new MemoryStream("deep!"u8.ToArray()), ct: Ct);
        await cluster.Gateway.PutFileAsync("/cli-tree/a/mid.txt", new MemoryStream("mid"u8.ToArray()), ct: Ct);
        await cluster.Gateway.PutFileAsync("/cli-tree/top.txt", new MemoryStream("t"u8.ToArray()), ct: Ct);

        var json = await RunAsync("ls", "-R", "/cli-tree", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var entries = JsonSerializer.Deserialize<List<EntryInfo>>(json.Stdout, DfsJson.Options)!;
        Assert.Equal(
            ["/cli-tree/a", "/cli-tree/top.txt", "/cli-tree/a/b", "/cli-tree/a/empty", "/cli-tree/a/mid.txt", "/cli-tree/a/b/deep.txt"],
            entries.Select(e => e.Path));
        Assert.Equal(5, entries.Single(e => e.Name == "deep.txt").Size);
        Assert.Equal(EntryKind.Directory, entries.Single(e => e.Name == "empty").Kind);

        // Text: a "folder:" header per folder, in the same order, each followed by that folder's own rows only.
        var text = await RunAsync("ls", "--recursive", "/cli-tree");
        Assert.True(text.ExitCode == 0, text.ToString());
        var sections = Sections(text.Stdout);
        Assert.Equal(["/cli-tree", "/cli-tree/a", "/cli-tree/a/b", "/cli-tree/a/empty"], sections.Select(s => s.Folder));
        Assert.Equal(["a/", "top.txt"], sections[0].Rows.Select(LastWord));
        Assert.Equal(["b/", "empty/", "mid.txt"], sections[1].Rows.Select(LastWord));
        Assert.Equal(["deep.txt"], sections[2].Rows.Select(LastWord));
        Assert.StartsWith("-", sections[2].Rows[0]);
        Assert.Contains(" 5 B ", sections[2].Rows[0]);
        Assert.StartsWith("d", sections[1].Rows[0]);
        Assert.Empty(sections[3].Rows);

        var tree = await RunAsync("tree", "/cli-tree");
        Assert.True(tree.ExitCode == 0, tree.ToString());
        Assert.Equal(
            [
                "/cli-tree",
                "├── a/",
                "│   ├── b/",
                "│   │   └── deep.txt (5 B)",
                "│   ├── empty/",
                "│   └── mid.txt (3 B)",
                "└── top.txt (1 B)",
                "3 folder(s), 3 file(s), 9 B",
            ],
            Lines(tree.Stdout));
    }

    [Fact]
    public async Task The_shell_runs_mv_rm_tree_and_nodes()
    {
        var local = Path.Combine(_local.FullName, "eleven.txt");
        await File.WriteAllTextAsync(local, "eleven byte", Ct);
        var script = $"""
            mkdir -p /shell-ops/src/inner
            cd /shell-ops
            put "{local}" src/a.txt
            put "{local}" src/b.txt
            mv src/b.txt src/inner/
            mv src moved
            tree
            rm moved/a.txt
            rm -r moved/inner
            nodes
            ls moved
            exit
            """;
        var shell = await RunWithInputAsync(script, "shell");
        Assert.True(shell.ExitCode == 0, shell.ToString());
        Assert.Equal("", shell.Stderr);

        Assert.Equal(
            [
                "/shell-ops",
                "└── moved/",
                "    ├── a.txt (11 B)",
                "    └── inner/",
                "        └── b.txt (11 B)",
                "2 folder(s), 2 file(s), 22 B",
            ],
            Lines(Output(shell.Stdout, "dfs:/shell-ops> tree")));
        var nodes = Output(shell.Stdout, "dfs:/shell-ops> nodes");
        foreach (var node in new[] { "node-1", "node-2", "node-3" }) Assert.Contains(node, nodes);
        Assert.Contains("3 of 3 node(s) live", nodes);
        Assert.Equal(["(empty)"], Lines(Output(shell.Stdout, "dfs:/shell-ops> ls moved")));

        // What the shell did, seen through the gateway.
        Assert.Empty((await cluster.Gateway.ListAsync("/shell-ops/moved", ct: Ct)).Entries);
        Assert.Equal(["moved"], (await cluster.Gateway.ListAsync("/shell-ops", ct: Ct)).Entries.Select(e => e.Name));
    }

    [Fact]
    public async Task Dfs_progress_always_prints_progress_lines_of_a_multi_chunk_put_and_get_without_a_terminal()
    {
        var source = Path.Combine(_local.FullName, "progress.bin");
        await File.WriteAllBytesAsync(source, TestData.Random(3 * ClusterFixture.ChunkSize + 1000, 71), Ct);
        var always = new Dictionary<string, string> { ["DFS_PROGRESS"] = "always" };

        var put = await RunWithAsync(always, null, "put", source, "/cli-progress/progress.bin");
        Assert.True(put.ExitCode == 0, put.ToString());
        Assert.Contains("4 chunk(s)", put.Stdout);
        Assert.Equal(
            [
                "hash progress.bin: 25%", "hash progress.bin: 50%", "hash progress.bin: 75%", "hash progress.bin: 100% (3.0 MiB of 3.0 MiB)",
                "put progress.bin: 25%", "put progress.bin: 50%", "put progress.bin: 75%", "put progress.bin: 100% (3.0 MiB of 3.0 MiB)",
            ],
            ProgressLines(put.Stderr));
        Assert.DoesNotContain("%", put.Stdout);

        var get = await RunWithAsync(always, null, "get", "/cli-progress/progress.bin", Path.Combine(_local.FullName, "back.bin"));
        Assert.True(get.ExitCode == 0, get.ToString());
        Assert.Equal(["get back.bin: 25%", "get back.bin: 50%", "get back.bin: 75%", "get back.bin: 100% (3.0 MiB of 3.0 MiB)"], ProgressLines(get.Stderr));

        // Without it, redirected output gets no progress at all.
        var quiet = await RunAsync("get", "/cli-progress/progress.bin", Path.Combine(_local.FullName, "quiet.bin"));
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.DoesNotContain("%", quiet.Stdout + quiet.Stderr);
    }

    [Fact]
    public async Task Cluster_status_shows_the_apphosts_resources_from_cluster_json_and_the_retired_cluster_commands_exit_2()
    {
        // dfs on the cluster's machine: the state folder says where cluster.json is, no gateway needed.
        var environment = new Dictionary<string, string> { ["DFS_STATE_DIR"] = cluster.App.StateDirectory };
        var json = await DfsCli.RunAsync(_local.FullName, environment, null, ["cluster", "status", "--json"], Ct);
        Assert.True(json.ExitCode == 0, json.ToString());
        using var status = JsonDocument.Parse(json.Stdout);
        Assert.Equal("local", status.RootElement.GetProperty("profile").GetString());
        Assert.Equal(cluster.App.GatewayUrl.ToString().TrimEnd('/'), status.RootElement.GetProperty("gateway").GetString());
        var resources = status.RootElement.GetProperty("resources").EnumerateArray()
            .ToDictionary(r => r.GetProperty("name").GetString()!, r => (Kind: r.GetProperty("kind").GetString(), State: r.GetProperty("state").GetString(),
                Pid: r.GetProperty("pid").ValueKind == JsonValueKind.Number ? r.GetProperty("pid").GetInt32() : (int?)null));
        Assert.Equal(
            new Dictionary<string, string>
            {
                ["metadata"] = ResourceKinds.Postgres, ["messaging"] = ResourceKinds.RabbitMq, ["messaging-epmd"] = ResourceKinds.Epmd,
                ["cache"] = ResourceKinds.Redis, ["gateway"] = ResourceKinds.Gateway, ["node-1"] = ResourceKinds.StorageNode,
                ["node-2"] = ResourceKinds.StorageNode, ["node-3"] = ResourceKinds.StorageNode, ["replicator"] = ResourceKinds.Replicator,
            }.OrderBy(r => r.Key),
            resources.ToDictionary(r => r.Key, r => r.Value.Kind!).OrderBy(r => r.Key));
        // Every resource runs, with the pid of the process doing the work (the service, not DCP's `dotnet run`).
        foreach (var (name, resource) in resources)
        {
            Assert.True(resource.State == ResourceStates.Running, $"{name}: {resource.State}");
            Assert.Equal(cluster.App.ProcessId(name), resource.Pid);
        }

        var text = await DfsCli.RunAsync(_local.FullName, environment, null, ["cluster", "status"], Ct);
        Assert.True(text.ExitCode == 0, text.ToString());
        Assert.Contains($"{resources.Count} of {resources.Count} resource(s) running", text.Stdout);

        // What the AppHost's own API did is the dashboard's now: the old commands say so, with the usage exit code.
        foreach (var retired in new[] { "add-node", "remove-node", "start", "stop", "restart" })
        {
            var gone = await DfsCli.RunAsync(_local.FullName, environment, null, ["cluster", retired, "node-1"], Ct);
            Assert.True(gone.ExitCode == 2, gone.ToString());
            Assert.Contains($"`dfs cluster {retired}` is gone", gone.Stderr);
        }
    }

    /// <summary>The progress lines of stderr; below 100% only up to the percent sign (how far each read got varies).</summary>
    private static List<string> ProgressLines(string stderr) =>
        [.. Lines(stderr).Where(l => l.Contains("% (", StringComparison.Ordinal)).Select(l => l.Contains("100% (", StringComparison.Ordinal) ? l : l[..(l.IndexOf('%') + 1)])];

    private Task<DfsCli.Run> RunAsync(params string[] args) => RunWithInputAsync(null, args);

    private Task<DfsCli.Run> RunWithInputAsync(string? stdin, params string[] args) => RunWithAsync(new Dictionary<string, string>(), stdin, args);

    private Task<DfsCli.Run> RunWithAsync(IReadOnlyDictionary<string, string> environment, string? stdin, params string[] args) =>
        DfsCli.RunAsync(_local.FullName, new Dictionary<string, string>(environment)
            {
                ["DFS_STATE_DIR"] = _local.FullName + "/no-state",
                // The cluster's first admin, over HTTP Basic.
                ["DFS_USER"] = AdminPassword.User,
                ["DFS_PASSWORD"] = DfsClusterOptions.AdminPassword,
            }, stdin,
            ["--gateway", cluster.App.GatewayUrl.ToString(), .. args], Ct);

    /// <summary>Output lines without the padding the console adds, blank lines dropped.</summary>
    private static List<string> Lines(string output) =>
        [.. output.Split('\n').Select(l => l.TrimEnd()).Where(l => l.Length > 0)];

    /// <summary>What one shell command printed: from its echoed prompt line to the next prompt.</summary>
    private static string Output(string shellOutput, string promptAndCommand)
    {
        var start = shellOutput.IndexOf(promptAndCommand + "\n", StringComparison.Ordinal);
        Assert.True(start >= 0, $"'{promptAndCommand}' not in:\n{shellOutput}");
        start += promptAndCommand.Length + 1;
        var end = shellOutput.IndexOf("dfs:/", start, StringComparison.Ordinal);
        return shellOutput[start..(end < 0 ? shellOutput.Length : end)];
    }

    private static List<(string Folder, List<string> Rows)> Sections(string output)
    {
        var sections = new List<(string Folder, List<string> Rows)>();
        foreach (var line in Lines(output))
        {
            if (line.EndsWith(':') && line.StartsWith('/')) sections.Add((line[..^1], []));
            else sections[^1].Rows.Add(line.Trim());
        }
        return sections;
    }

    private static string LastWord(string row) => row[(row.LastIndexOf(' ') + 1)..];
}
