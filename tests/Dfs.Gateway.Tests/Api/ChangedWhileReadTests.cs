using Dfs.Contracts.Clients;
using Dfs.Gateway.Files;
using Dfs.Gateway.Http;
using Dfs.Gateway.Namespace;
using Dfs.Gateway.Tests.Auth;
using Dfs.Gateway.Tests.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// A GET that found a version which is deleted before its chunks are read (a delete or an overwrite racing the read, as the
/// chaos run's clients do): a clear 409, never an answer cut short of its Content-Length (which Kestrel turns into a 500).
/// </summary>
public sealed class ChangedWhileReadTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_version_gone_between_its_lookup_and_its_chunks_is_a_409_and_nothing_is_written()
    {
        await using var gateway = new GatewayFactory()
            .With("Dfs:Gateway:ReplicationFactor", "1")
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        await using var node = await FakeNode.StartAsync("node", FakeBehaviour.Store, Ct, servesReads: true);
        gateway.StartServer();
        await node.RegisterAsync(gateway, 1L << 30, Ct);
        var admin = AuthKit.Admin(gateway);
        await admin.PutFileAsync("/racy.bin", new MemoryStream(new byte[100_000]), ct: Ct);

        await using var scope = gateway.Services.CreateAsyncScope();
        var names = scope.ServiceProvider.GetRequiredService<NamespaceService>();
        var (_, version) = (await names.FindWithVersionAsync("/racy.bin", Ct))!.Value;
        // The read found this version; now it goes, as a DELETE through the API does.
        await admin.DeleteAsync("/racy.bin", recursive: false, Ct);

        using var output = new MemoryStream();
        var gone = await Assert.ThrowsAsync<DfsProblemException>(() => FileEndpoints.WriteRangeAsync(version!.Id, 0, 99_999, output,
            names, scope.ServiceProvider.GetRequiredService<ReadCache>(), scope.ServiceProvider.GetRequiredService<DownloadService>(), Ct));
        Assert.Equal(StatusCodes.Status409Conflict, gone.Status);
        Assert.Equal(0, output.Length);
    }
}
