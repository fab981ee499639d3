using Dfs.Contracts.Clients;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.ServiceDefaults;

/// <summary>
/// How a member of the cluster reaches the gateway: by service discovery, as Aspire passes it
/// (services__gateway__https__0 when the gateway serves HTTPS, else services__gateway__http__0).
/// </summary>
public static class GatewayLink
{
    /// <summary>The gateway's https endpoint when it has one, else its http one.</summary>
    public static readonly Uri BaseAddress = new("https+http://gateway");

    /// <summary>Whether this process was told where a gateway is (a storage node without one runs standalone).</summary>
    public static bool IsConfigured(IConfiguration configuration) => configuration.GetSection("services:gateway").GetChildren().Any();

    /// <summary>
    /// The gateway's internal API as a Refit client with the standard resilience of control-plane calls; its base
    /// address from <paramref name="baseAddress"/> (read each time a client is made) or <see cref="BaseAddress"/>.
    /// </summary>
    public static IHttpClientBuilder AddGatewayInternalApi(this IServiceCollection services, Func<IServiceProvider, Uri>? baseAddress = null) =>
        services.AddControlPlaneClient<IGatewayInternalApi>((sp, http) => http.BaseAddress = baseAddress?.Invoke(sp) ?? BaseAddress);
}
