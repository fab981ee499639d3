using System.Net;
using System.Net.Sockets;

namespace Dfs.Cli.Tests.Infrastructure;

public static class ClosedPort
{
    /// <summary>A loopback port that was just free and is now closed, so connecting to it is refused.</summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
