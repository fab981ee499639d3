using System.Net;
using System.Net.Http.Json;
using Dfs.AppHost.Cluster;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Internal;
using Dfs.Contracts.Security;

namespace Dfs.IntegrationTests;

/// <summary>Clients never reach chunks around the gateway, nor the gateway's internal API: only the cluster's signed requests are served there.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTrustTests(ClusterFixture cluster)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_is_refused_by_the_nodes_and_the_internal_api_while_the_gateways_own_reads_keep_working()
    {
        var data = TestData.Random(200_000, 71);
        await cluster.Gateway.PutFileAsync("/trust/secret.bin", new MemoryStream(data), ct: Ct);
        var chunk = (await cluster.Gateway.StatAsync("/trust/secret.bin", Ct)).Chunks.Single();
        var holder = new Uri(chunk.Replicas.Single().NodeUrl.TrimEnd('/') + "/");
        var nodesBefore = await cluster.Gateway.GetNodesAsync(Ct);

        // A client that knows where the chunk is, but not the cluster's secret.
        using var outsider = new HttpClient { BaseAddress = holder };
        using var read = await outsider.GetAsync($"chunks/{chunk.Id}", Ct);
        using var delete = await outsider.DeleteAsync($"chunks/{chunk.Id}", Ct);
        using var inventory = await outsider.GetAsync("chunks?limit=10", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, read.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, inventory.StatusCode);
        var problem = await read.Content.ReadFromJsonAsync<ApiProblem>(Ct);
        Assert.Contains(ClusterSignature.HeaderName, problem!.Detail);
        Assert.DoesNotContain(Convert.ToHexString(data.AsSpan(0, 16)), await read.Content.ReadAsStringAsync(Ct), StringComparison.OrdinalIgnoreCase);

        // Nor can it pose as a node to the gateway, even with the admin's credentials.
        using var gateway = new HttpClient { BaseAddress = cluster.App.GatewayUrl };
        gateway.DefaultRequestHeaders.Authorization = DfsTestCluster.AdminAuthorization;
        using var register = await gateway.PostAsJsonAsync("/internal/nodes/register",
            new NodeRegistration(Guid.NewGuid(), "intruder", "http://127.0.0.1:9", new NodeUsage(1L << 40, 1L << 40, 0, 0)), DfsJson.Options, Ct);
        using var report = await gateway.PostAsJsonAsync("/internal/replicas", new ReplicaReport(chunk.Id, nodesBefore[0].Id), DfsJson.Options, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, register.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, report.StatusCode);
        Assert.DoesNotContain(await cluster.Gateway.GetNodesAsync(Ct), n => n.Name == "intruder");
        Assert.Single((await cluster.Gateway.StatAsync("/trust/secret.bin", Ct)).Chunks.Single().Replicas);

        // The gateway signs its own calls: the file still reads back whole.
        Assert.Equal(TestData.Sha256(data), await cluster.Gateway.DownloadSha256Async("/trust/secret.bin", Ct));

        // And a member of the cluster is served by the node.
        using var member = cluster.App.CreateClusterHttpClient();
        var buffer = new byte[chunk.Size];
        Assert.Equal(chunk.Size, await new StorageNodeClient(cluster.App.CreateClusterHttpClient).ReadChunkAsync(holder, chunk.Id, buffer, Ct));
        Assert.Equal(chunk.Id, TestData.Sha256(buffer));
    }

    [Fact]
    public async Task Health_probes_stay_open_on_every_service()
    {
        // What an orchestrator's probe is: no credentials, no signature.
        using var outsider = new HttpClient();
        var services = new[] { DfsCluster.GatewayName, DfsCluster.ReplicatorName }.Concat(cluster.App.RunningStorageNodes).ToList();
        Assert.Equal(5, services.Count);
        foreach (var service in services)
            foreach (var probe in new[] { "/health", "/alive" })
            {
                using var response = await outsider.GetAsync(new Uri(cluster.App.Endpoint(service), probe), Ct);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{service}{probe}: {response.StatusCode}");
            }
    }
}
