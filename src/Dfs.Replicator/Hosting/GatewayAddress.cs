using Dfs.ServiceDefaults;

namespace Dfs.Replicator.Hosting;

/// <summary>
/// Where the gateway's internal API is. Read each time a gateway client is created, so a host that learns
/// its own address late (the gateway, embedding the Replicator, knows it only once Kestrel is bound) can
/// register an implementation that answers once it knows.
/// </summary>
public interface IGatewayAddress
{
    Uri Current { get; }
}

/// <summary>The default: the gateway by service discovery (<see cref="GatewayLink.BaseAddress"/>), as the AppHost describes it.</summary>
public sealed class DiscoveredGatewayAddress : IGatewayAddress
{
    public Uri Current => GatewayLink.BaseAddress;
}
