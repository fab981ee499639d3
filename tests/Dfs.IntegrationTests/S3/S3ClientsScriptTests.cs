using Dfs.IntegrationTests.Support;

namespace Dfs.IntegrationTests.S3;

/// <summary>
/// The real S3 tools, unchanged, against a real cluster: scripts/s3-clients.sh drives Debian's awscli (cp of a 100 MiB
/// file in parts, sync both ways with changes and --delete), rclone (copy + check both ways) and s3cmd (put, ls, get,
/// del), each checking bytes and listings against what it sent. The test command installs the three packages.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class S3ClientsScriptTests(ClusterFixture cluster) : IAsyncDisposable
{
    private readonly S3ClientFactory _s3 = new(cluster);
    private readonly string _work = Directory.CreateTempSubdirectory("dfs-s3-clients-").FullName;

    public async ValueTask DisposeAsync()
    {
        await _s3.DisposeAsync();
        Directory.Delete(_work, recursive: true);
    }

    [Fact]
    public async Task Awscli_rclone_and_s3cmd_move_folders_and_multipart_files_byte_for_byte()
    {
        var ct = TestContext.Current.CancellationToken;
        var key = await _s3.CreateKeyAsync(null, ct);
        var run = await DfsCli.RunProgramAsync("bash", [Path.Combine(Built.RepositoryRoot, "scripts", "s3-clients.sh"), _work], _work,
            new Dictionary<string, string>
            {
                ["DFS_S3_ENDPOINT"] = _s3.Endpoint.ToString().TrimEnd('/'),
                ["AWS_ACCESS_KEY_ID"] = key.Id,
                ["AWS_SECRET_ACCESS_KEY"] = key.Secret,
            }, stdin: null, ct);
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.EndsWith("s3 clients: aws, rclone and s3cmd passed", run.Stdout.TrimEnd());
        // What the tools deleted is gone from the namespace too: buckets are top-level folders.
        foreach (var bucket in new[] { "clients-aws", "clients-rclone", "clients-s3cmd" })
            Assert.DoesNotContain((await cluster.Gateway.ListAsync("/", ct: ct)).Entries, e => e.Name == bucket);
    }
}
