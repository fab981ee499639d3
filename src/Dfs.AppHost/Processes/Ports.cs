using System.Net;
using System.Net.Sockets;

namespace Dfs.AppHost.Processes;

/// <summary>Loopback ports: a free one, or the one a resource had last time when it is still free.</summary>
internal static class Ports
{
    public static int GetFreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Reuses the port remembered in <paramref name="portFile"/> when free, else takes a free one; remembers the choice.</summary>
    public static int RememberedOrFree(string portFile)
    {
        if (File.Exists(portFile)
            && int.TryParse(File.ReadAllText(portFile).Trim(), out var remembered)
            && remembered is > 0 and <= 65535
            && IsFree(remembered))
            return remembered;
        var port = GetFreePort();
        Directory.CreateDirectory(Path.GetDirectoryName(portFile)!);
        File.WriteAllText(portFile, port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return port;
    }
}
