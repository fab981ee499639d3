using System.Net;
using System.Net.Sockets;
using Dfs.StorageNode.Tests.Infrastructure;

namespace Dfs.StorageNode.Tests;

/// <summary>The node's side of the register/heartbeat protocol, against a recording gateway on a real port.</summary>
public sealed class RegistrationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static Dictionary<string, string?> Settings(RecordingGateway gateway, int heartbeatMs = 100) => new()
    {
        ["services:gateway:http:0"] = gateway.Url.ToString(),
        ["Dfs:Cluster:HeartbeatIntervalMs"] = heartbeatMs.ToString(),
    };

    [Fact]
    public async Task Node_retries_registration_then_heartbeats_and_registers_again_when_forgotten()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        gateway.RefuseRegistrations = true;
        await using var node = NodeHost.Start(Settings(gateway));

        // Refused registrations are retried; meanwhile the node is alive but not healthy.
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.RegistrationAttempts >= 3));
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("alive", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await node.Http.GetAsync("health", Ct)).StatusCode);
        Assert.Equal(0, gateway.HeartbeatAttempts);

        gateway.RefuseRegistrations = false;
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Registrations.Count == 1));
        Assert.True(await TestChunks.EventuallyAsync(() => node.Registration.HasRegistered));
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("health", Ct)).StatusCode);

        var status = await node.Client.GetStatusAsync(node.Url, Ct);
        var registration = Assert.Single(gateway.Registrations);
        Assert.Equal(status.NodeId, registration.NodeId);
        Assert.Equal("test-node", registration.Name);
        Assert.Equal(node.Url.GetLeftPart(UriPartial.Authority), registration.Url);
        Assert.Equal(status.Usage.CapacityBytes, registration.Usage.CapacityBytes);

        // Heartbeats carry the current usage.
        var (id, bytes) = TestChunks.Random(777);
        await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
        Assert.True(await TestChunks.EventuallyAsync(() =>
            gateway.Heartbeats.Any(h => h.NodeId == status.NodeId && h.Heartbeat.Usage is { ChunkCount: 1, UsedBytes: 777 })));

        // The gateway lost its memory: the next heartbeat is a 404 and the node registers again.
        gateway.Forget(status.NodeId);
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Registrations.Count == 2));
        var again = gateway.Registrations.Last();
        Assert.Equal(status.NodeId, again.NodeId);
        Assert.Equal(1, again.Usage.ChunkCount);
        var before = gateway.HeartbeatsFrom(status.NodeId);
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.HeartbeatsFrom(status.NodeId) >= before + 2));
        Assert.Equal(2, gateway.Registrations.Count);
    }

    [Fact]
    public async Task A_node_process_told_410_gone_logs_why_and_exits_cleanly_with_code_0_without_registering_again()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        using var dataDir = new TempDir();
        using var node = NodeProcess.Start(new Dictionary<string, string>
        {
            ["Dfs__StorageNode__DataDir"] = dataDir.Path,
            ["Dfs__StorageNode__Name"] = "node-to-remove",
            ["services__gateway__http__0"] = gateway.Url.ToString(),
            ["Dfs__Cluster__HeartbeatIntervalMs"] = "100",
        });
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Heartbeats.Count >= 2 || node.HasExited, TimeSpan.FromSeconds(60)), node.Output);
        Assert.False(node.HasExited, node.Output);
        var id = Assert.Single(gateway.Registrations).NodeId;

        gateway.Remove(id);

        Assert.True(await node.WaitForExitAsync(TimeSpan.FromSeconds(60), Ct), node.Output);
        Assert.True(node.ExitCode == 0, $"exit code {node.ExitCode}\n{node.Output}");
        Assert.Contains(RecordingGateway.RemovedDetail(id), node.Output);
        Assert.Contains("stopping this node", node.Output);
        // The host's own graceful stop ran (not a crash or a kill).
        Assert.Contains("Application is shutting down", node.Output);
        Assert.Single(gateway.Registrations);
    }

    [Fact]
    public async Task Failing_heartbeats_are_retried_without_registering_again()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        await using var node = NodeHost.Start(Settings(gateway));
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Registrations.Count == 1));

        gateway.FailHeartbeats = true;
        var attempts = gateway.HeartbeatAttempts;
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.HeartbeatAttempts >= attempts + 3));
        gateway.FailHeartbeats = false;
        var accepted = gateway.Heartbeats.Count;
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Heartbeats.Count >= accepted + 2));

        Assert.Single(gateway.Registrations);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("health", Ct)).StatusCode);
    }

    [Fact]
    public async Task A_node_whose_gateway_is_down_stays_up_and_registers_once_it_appears()
    {
        // Take a free port and let it go: nothing listens there until the gateway starts on it.
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        await using var node = NodeHost.Start(new Dictionary<string, string?>
        {
            ["services:gateway:http:0"] = $"http://127.0.0.1:{port}",
            ["Dfs:Cluster:HeartbeatIntervalMs"] = "100",
        });

        await Task.Delay(1000, Ct);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("alive", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await node.Http.GetAsync("health", Ct)).StatusCode);
        var (id, bytes) = TestChunks.Random(100);
        Assert.True(await node.Client.PutChunkAsync(node.Url, id, bytes, Ct));

        await using var gateway = await RecordingGateway.StartAsync(Ct, port);
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Heartbeats.Count >= 1));
        Assert.Single(gateway.Registrations);
        // A registration the resilience handler kept retrying carries the usage of its first attempt; heartbeats bring it current.
        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Heartbeats.LastOrDefault().Heartbeat?.Usage.ChunkCount == 1));
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("health", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_gateway_can_ask_for_more_frequent_heartbeats()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        gateway.AckHeartbeatIntervalMs = 100;
        await using var node = NodeHost.Start(Settings(gateway, heartbeatMs: 60_000));

        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Heartbeats.Count >= 3));
    }

    [Fact]
    public async Task A_configured_advertised_url_is_what_the_node_registers()
    {
        await using var gateway = await RecordingGateway.StartAsync(Ct);
        var settings = Settings(gateway);
        settings["Dfs:StorageNode:AdvertisedUrl"] = "http://node-7.internal:9000";
        await using var node = NodeHost.Start(settings);

        Assert.True(await TestChunks.EventuallyAsync(() => gateway.Registrations.Count == 1));
        Assert.Equal("http://node-7.internal:9000", Assert.Single(gateway.Registrations).Url);
    }
}
