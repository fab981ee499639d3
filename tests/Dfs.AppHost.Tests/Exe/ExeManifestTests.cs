using System.Text.Json;
using Dfs.AppHost.Tests.Support;

namespace Dfs.AppHost.Tests.Exe;

/// <summary>The exe's publish mode: Aspire's deployment manifest of the diagram, with no secret of this machine in it.</summary>
public sealed class ExeManifestTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-manifest-");

    public void Dispose() => _folder.Delete(recursive: true);

    [Fact]
    public async Task The_manifest_names_every_resource_and_asks_for_generated_secrets_without_starting_anything()
    {
        var manifest = Path.Combine(_folder.FullName, "dfs.json");
        var state = Path.Combine(_folder.FullName, "state");
        var run = await AppHostExe.RunAsync(["--publisher", "manifest", "--output-path", manifest, "--profile", "external", "--nodes", "2", "--spare-nodes", "1",
            "--metadata", "Host=db.example;Database=dfs;Username=dfs;Password=db-secret", "--messaging", "amqp://dfs:mq-secret@mq.example:5672/", "--state-dir", state], Ct);

        Assert.True(run.Code == 0, run.Stdout + run.Stderr);
        Assert.DoesNotContain(run.Descendants, d => d.Contains("dcp", StringComparison.Ordinal));
        // Publishing writes nothing for a run: no state folder, no admin password file.
        Assert.False(Directory.Exists(state));

        var text = await File.ReadAllTextAsync(manifest, Ct);
        using var json = JsonDocument.Parse(text);
        var resources = json.RootElement.GetProperty("resources");
        Assert.Equal(["metadata", "messaging", "admin-password", "access-key-master-key", "cluster-secret", "gateway", "node-1", "node-2", "node-3", "replicator"],
            resources.EnumerateObject().Select(r => r.Name));
        foreach (var (parameter, length) in new[] { ("cluster-secret", 64), ("admin-password", 24), ("access-key-master-key", 64) })
        {
            var input = resources.GetProperty(parameter).GetProperty("inputs").GetProperty("value");
            Assert.True(input.GetProperty("secret").GetBoolean());
            Assert.Equal(length, input.GetProperty("default").GetProperty("generate").GetProperty("minLength").GetInt32());
        }
        foreach (var service in (string[])["gateway", "node-1", "node-3", "replicator"])
            Assert.Equal("{cluster-secret.value}", resources.GetProperty(service).GetProperty("env").GetProperty("Dfs__Cluster__Secret").GetString());
        var gateway = resources.GetProperty("gateway").GetProperty("env");
        Assert.Equal("{admin-password.value}", gateway.GetProperty("Dfs__Gateway__Auth__AdminPassword").GetString());
        Assert.Equal("{access-key-master-key.value}", gateway.GetProperty("Dfs__Gateway__AccessKeyMasterKey").GetString());
        // Digits only, which are hex digits too: what the gateway takes as a master key.
        var generate = resources.GetProperty("access-key-master-key").GetProperty("inputs").GetProperty("value").GetProperty("default").GetProperty("generate");
        Assert.Equal((false, false, false), (generate.GetProperty("lower").GetBoolean(), generate.GetProperty("upper").GetBoolean(), generate.GetProperty("special").GetBoolean()));
        Assert.Equal("{metadata.connectionString}", gateway.GetProperty("ConnectionStrings__metadata").GetString());
        // The connection strings given on the command line are the deployment's inputs, not the manifest's content.
        Assert.DoesNotContain("db-secret", text);
        Assert.DoesNotContain("mq-secret", text);
    }
}
