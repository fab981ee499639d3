using System.Net;
using Dfs.StorageNode.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Registration;

/// <summary>The URL other processes reach this node at: configured, or else the first address Kestrel bound.</summary>
public sealed class AdvertisedAddress(IServer server, IOptions<StorageNodeOptions> options)
{
    /// <summary>Valid once the server has started (the bound port is only known then).</summary>
    public string Resolve()
    {
        if (options.Value.AdvertisedUrl is { } configured) return Normalize(new Uri(configured));

        var bound = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                    ?? throw new InvalidOperationException(
                        $"The server has no bound address; set {StorageNodeOptions.SectionName}:{nameof(StorageNodeOptions.AdvertisedUrl)}.");
        // Kestrel reports wildcard bindings as written (http://[::]:5000, http://+:5000): nobody can connect to those.
        var builder = new UriBuilder(bound.Replace("://+:", "://localhost:").Replace("://*:", "://localhost:"));
        if (IPAddress.TryParse(builder.Host, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
            builder.Host = "127.0.0.1";
        return Normalize(builder.Uri);
    }

    /// <summary>A root URL without its slash (Aspire style); a URL with a path ends in one so relative routes resolve under it.</summary>
    private static string Normalize(Uri uri) =>
        uri.AbsolutePath == "/" ? uri.GetLeftPart(UriPartial.Authority)
        : uri.AbsoluteUri.EndsWith('/') ? uri.AbsoluteUri
        : uri.AbsoluteUri + "/";
}
