using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Nodes;

namespace Dfs.Gateway.Tests.Console;

/// <summary>Gateways, users and storage nodes for the console's tests.</summary>
internal static class ConsoleKit
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A started gateway whose registered nodes stay live without heartbeats (the scripted nodes send none).</summary>
    public static GatewayFactory StartGateway(Action<GatewayFactory>? configure = null)
    {
        var gateway = new GatewayFactory()
            .With("Dfs:Cluster:NodeSuspectAfterMs", "600000")
            .With("Dfs:Cluster:NodeDeadAfterMs", "600000");
        configure?.Invoke(gateway);
        gateway.StartServer();
        return gateway;
    }

    /// <summary>The gateway's Kestrel address (http://127.0.0.1:PORT/).</summary>
    public static Uri Address(GatewayFactory gateway)
    {
        using var client = gateway.CreateClient();
        return client.BaseAddress!;
    }

    public static ConsoleClient Browser(GatewayFactory gateway) => new(Address(gateway));

    /// <summary>A browser signed in as the first admin, on the cluster page.</summary>
    public static async Task<ConsoleClient> AdminAsync(GatewayFactory gateway)
    {
        var browser = Browser(gateway);
        await browser.SignedInAsync(GatewayFactory.AdminUser, GatewayFactory.AdminPassword, Ct);
        return browser;
    }

    /// <summary>Storage nodes that keep what they are sent and serve it back, registered with plenty of room.</summary>
    public static async Task<FakeNodes> NodesAsync(GatewayFactory gateway, params string[] names)
    {
        var nodes = new FakeNodes();
        foreach (var name in names)
        {
            var node = await FakeNode.StartAsync(name, FakeBehaviour.Store, Ct, servesReads: true);
            nodes.Add(node);
            await node.RegisterAsync(gateway, 1L << 30, Ct);
        }
        return nodes;
    }

    public static IGatewayApi AdminApi(GatewayFactory gateway) => DfsRefit.Gateway(gateway.CreateClient());

    public static async Task<NodeInfo> NodeAsync(GatewayFactory gateway, string name) =>
        (await AdminApi(gateway).GetNodesAsync(Ct)).Single(n => n.Name == name);
}

/// <summary>Scripted storage nodes that go with the test.</summary>
internal sealed class FakeNodes : List<FakeNode>, IAsyncDisposable
{
    public async ValueTask DisposeAsync()
    {
        foreach (var node in this) await node.DisposeAsync();
    }
}
