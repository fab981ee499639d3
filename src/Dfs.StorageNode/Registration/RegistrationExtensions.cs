using Dfs.ServiceDefaults;

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

        var standalone = !GatewayLink.IsConfigured(builder.Configuration);
        builder.Services.AddSingleton(new RegistrationState(standalone));
        builder.Services.AddSingleton<AdvertisedAddress>();
        // No "live" tag: /alive must not depend on the gateway, /health must.
        builder.Services.AddHealthChecks().AddCheck<GatewayRegistrationHealthCheck>(HealthCheckName);

        if (!standalone)
        {
            builder.Services.AddGatewayInternalApi();
            builder.Services.AddHostedService<GatewayRegistrationService>();
        }
        return builder;
    }
}
