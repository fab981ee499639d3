using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Dfs.AppHost.Cluster;
using Dfs.Chaos.Network;
using Dfs.Contracts.Clients;
using Dfs.Testing;

namespace Dfs.Chaos.Cluster;

/// <summary>
/// The cluster under test: PostgreSQL, RabbitMQ, Redis, the gateway and the Replicator from the real AppHost (run with
/// --nodes 0) on the host side, and N storage nodes each on its own host of the test network. The gateway listens on
/// loopback (for the clients and the Replicator) and on the bridge address (for the nodes); every node advertises its
/// own host's address, so the gateway, the Replicator and the other nodes reach it across the network.
/// </summary>
public sealed class ChaosCluster : IAsyncDisposable
{
    public const int ReplicationFactor = 3;
    public const long ChunkSize = 256 * 1024;
    public const int GcGraceMs = 5000;

    private ChaosCluster(DfsTestCluster app, ChaosNetwork network, IReadOnlyList<NamespacedNode> nodes, Uri gatewayUrl)
    {
        App = app;
        Network = network;
        Nodes = nodes;
        GatewayUrl = gatewayUrl;
    }

    public DfsTestCluster App { get; }
    public ChaosNetwork Network { get; }
    public IReadOnlyList<NamespacedNode> Nodes { get; }
    public Uri GatewayUrl { get; }

    /// <summary>The resources of the AppHost the nemesis may kill or stop.</summary>
    public static readonly IReadOnlyList<string> Services =
        [DfsCluster.GatewayName, DfsCluster.ReplicatorName, DfsCluster.MetadataName, DfsCluster.MessagingName, DfsCluster.CacheName];

    /// <summary>Starts it all with its state (and every process's output, in logs/) in <paramref name="stateDirectory"/>.</summary>
    public static async Task<ChaosCluster> StartAsync(int nodeCount, string stateDirectory, TextWriter log, CancellationToken ct)
    {
        var network = ChaosNetwork.Create(nodeCount);
        DfsTestCluster? app = null;
        var nodes = new List<NamespacedNode>();
        try
        {
            var port = FreePort();
            var portText = port.ToString(CultureInfo.InvariantCulture);
            log.WriteLine($"network: bridge {network.Bridge} {network.HostAddress}/24, {nodeCount} node namespaces; gateway port {portText}");
            app = await DfsTestCluster.StartAsync(o =>
            {
                o.Nodes = 0;
                o.SpareNodes = 0;
                o.ReplicationFactor = ReplicationFactor;
                o.ChunkSizeBytes = ChunkSize;
                o.HeartbeatIntervalMs = 500;
                o.NodeDeadAfterMs = 4000;
                o.ReconcileIntervalMs = 1000;
                o.GcGraceMs = GcGraceMs;
                o.GcIntervalMs = 1000;
                o.GatewayPort = port;
                o.ResourceLogs = false;
                o.StateDirectory = stateDirectory;
                // The health checks of a server the nemesis stopped would fill the run's output with stack traces.
                o.ExtraArguments.Add("--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None");
                // Kestrel's own endpoints replace the one Aspire names: loopback for this side, the bridge for the nodes.
                o.ResourceEnvironment[DfsCluster.GatewayName] = new Dictionary<string, string>
                {
                    ["Kestrel__Endpoints__loopback__Url"] = $"http://127.0.0.1:{portText}",
                    ["Kestrel__Endpoints__network__Url"] = $"http://{network.HostAddress}:{portText}",
                };
            }, ct);
            ResourceLogFiles.Start(app, Path.Combine(stateDirectory, "logs"));

            var environment = new Dictionary<string, string>
            {
                ["Dfs__Cluster__Secret"] = app.Cluster.ClusterSecret,
                ["Dfs__Cluster__HeartbeatIntervalMs"] = "500",
                ["Dfs__Cluster__NodeDeadAfterMs"] = "4000",
                ["services__gateway__http__0"] = $"http://{network.HostAddress}:{portText}",
            };
            for (var i = 1; i <= nodeCount; i++) nodes.Add(new NamespacedNode(i, network, stateDirectory, environment));
            foreach (var node in nodes) node.Start();
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            await Task.WhenAll(nodes.Select(n => n.WaitHealthyAsync(http, TimeSpan.FromMinutes(2), ct)));
            var cluster = new ChaosCluster(app, network, nodes, new Uri($"http://127.0.0.1:{portText}"));
            await cluster.WaitForLiveNodesAsync(nodeCount, TimeSpan.FromMinutes(1), ct);
            return cluster;
        }
        catch
        {
            foreach (var node in nodes) await node.DisposeAsync();
            if (app is not null) await app.DisposeAsync();
            network.Dispose();
            throw;
        }
    }

    public HttpClient CreateAdminClient(TimeSpan timeout)
    {
        var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(3), PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = GatewayUrl,
            Timeout = timeout,
        };
        http.DefaultRequestHeaders.Authorization = DfsTestCluster.AdminAuthorization;
        return http;
    }

    public async Task WaitForLiveNodesAsync(int count, TimeSpan limit, CancellationToken ct)
    {
        using var http = CreateAdminClient(TimeSpan.FromSeconds(10));
        var gateway = DfsRefit.Gateway(http);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(limit);
        while (true)
        {
            try
            {
                var nodes = await gateway.GetNodesAsync(timeout.Token);
                if (nodes.Count(n => n.State == Contracts.Api.NodeStates.Live) >= count) return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
            }
            try { await Task.Delay(250, timeout.Token); }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ChaosSetupException($"Fewer than {count} live nodes after {limit.TotalSeconds} s.");
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        await App.DisposeAsync();
        Network.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
