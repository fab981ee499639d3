using Dfs.Contracts.Clients;

namespace Dfs.StorageNode.Registration;

public static class RegistrationExtensions
{
    public const string HealthCheckName = "gateway-registration";

    public static WebApplicationBuilder AddGatewayRegistration(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClusterOptions>()
            .BindConfiguration(ClusterOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        var gateway = GatewayEndpoint.FromConfiguration(builder.Configuration);
        builder.Services.AddSingleton(gateway);
        builder.Services.AddSingleton<RegistrationState>();
        builder.Services.AddSingleton<AdvertisedAddress>();
        // No "live" tag: /alive must not depend on the gateway, /health must.
        builder.Services.AddHealthChecks().AddCheck<GatewayRegistrationHealthCheck>(HealthCheckName);

        if (gateway.Url is { } url)
        {
            builder.Services.AddHttpClient<IClusterClient, ClusterClient>(client =>
            {
                client.BaseAddress = url;
                // A hung gateway must not stall heartbeats for the default 100 s.
                client.Timeout = TimeSpan.FromSeconds(10);
            });
            builder.Services.AddHostedService<GatewayRegistrationService>();
        }
        return builder;
    }
}
