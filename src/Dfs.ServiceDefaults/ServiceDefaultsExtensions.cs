using Dfs.Contracts.Clients;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Refit;

namespace Dfs.ServiceDefaults;

/// <summary>
/// What every Dfs service shares, in the shape of Aspire's ServiceDefaults: OpenTelemetry (traces, metrics, logs; OTLP
/// when OTEL_EXPORTER_OTLP_ENDPOINT is set, as the AppHost sets it), health checks, service discovery for every
/// HttpClient, and the links to other services as Refit clients (control plane with Aspire's standard resilience,
/// data path with its own rules).
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";
    public const string HealthPath = "/health";
    public const string AlivePath = "/alive";

    /// <summary>Our own ActivitySources and Meters are all named Dfs.*.</summary>
    public const string DfsTelemetry = "Dfs.*";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        // A service is unhealthy for a moment at every start (not yet registered, the bus not yet connected), and the
        // health check service logs each unhealthy probe as an error: the dashboard shows health itself, so only a
        // crashing check is worth a log line.
        builder.Logging.AddFilter("Microsoft.Extensions.Diagnostics.HealthChecks.DefaultHealthCheckService", LogLevel.Critical);
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        builder.Services.AddProblemDetails();
        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            // No per-request log lines and scopes from IHttpClientFactory: chunk and heartbeat traffic would log four lines
            // a request at Information; failures are logged where they are handled, with what they mean.
            http.RemoveAllLoggers().ConfigurePrimaryHttpMessageHandler(CreateDefaultHandler);
        });
        return builder;
    }

    /// <summary>Pooled connections that are recycled, so DNS and restarted peers are picked up.</summary>
    public static SocketsHttpHandler CreateDefaultHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        MaxConnectionsPerServer = 256,
        AutomaticDecompression = System.Net.DecompressionMethods.None,
        UseCookies = false,
    };

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithTracing(tracing => tracing
                .AddAspNetCoreInstrumentation(aspnet => aspnet.Filter = context => !IsProbe(context.Request.Path))
                .AddHttpClientInstrumentation()
                // Npgsql's commands, MassTransit's sends and consumes (its context crosses RabbitMQ), Redis, and ours.
                .AddSource("Npgsql", "MassTransit", "StackExchange.Redis", DfsTelemetry))
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("Npgsql", "Microsoft.EntityFrameworkCore", "MassTransit", DfsTelemetry));

        // Only export when someone listens: the exporter reads OTEL_* itself (endpoint, headers, service name).
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        return builder;
    }

    /// <summary>
    /// A control-plane link to another service as a Refit client (small JSON calls: registration, heartbeats, work,
    /// reports, the CLI's commands) with Aspire's standard resilience: retries of transient failures, timeouts, a circuit
    /// breaker. Never for calls that stream a body: a retry would resend a spent stream.
    /// </summary>
    public static IHttpClientBuilder AddControlPlaneClient<TApi>(this IServiceCollection services, Action<IServiceProvider, HttpClient> configure)
        where TApi : class
    {
        // The resolver itself (configuration and pass-through providers; registering it twice is harmless), for hosts that
        // add this client without the rest of the defaults.
        services.AddServiceDiscovery();
        var client = services.AddRefitGeneratedClient<TApi>(DfsJsonContext.Default, _ => DfsRefit.Settings);
        // Refit's registration brings a primary handler of its own, which would drop the defaults' (pooling, the pin of
        // the gateway's certificate): put them back on this client.
        client.ConfigurePrimaryHttpMessageHandler(CreateDefaultHandler);
        client.ConfigurePrimaryHttpMessageHandler(ClusterTrustExtensions.PinGatewayCertificate);
        client.ConfigureHttpClient(configure);
        // Resilience outside service discovery, as in Aspire's template: each attempt resolves http://gateway anew (through
        // services__gateway__http__0, __1, …), so a retry goes to the next gateway when one is down.
        // Retries come soon (0.2 s, doubling): the next attempt goes to another gateway, and a heartbeat that waited the
        // default 2 s would make its node look suspect.
        client.AddStandardResilienceHandler(o => o.Retry.Delay = TimeSpan.FromMilliseconds(200));
        client.AddServiceDiscovery();
        return client;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        // Mapped in every environment: DCP runs the services without ASPNETCORE_ENVIRONMENT (Production), and the AppHost's
        // health checks and WaitFor depend on them. They reveal nothing but "Healthy".
        app.MapHealthChecks(HealthPath);
        app.MapHealthChecks(AlivePath, new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        return app;
    }

    private static bool IsProbe(PathString path) => path.StartsWithSegments(HealthPath) || path.StartsWithSegments(AlivePath);
}
