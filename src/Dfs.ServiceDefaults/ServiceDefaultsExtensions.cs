using System.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Dfs.ServiceDefaults;

/// <summary>
/// What every Dfs service shares, in the shape of Aspire's ServiceDefaults: OpenTelemetry, health checks,
/// HttpClient defaults. Built on the base OpenTelemetry package because the hosting and instrumentation
/// packages are not in our registry: the runtime's own ActivitySources and Meters give the same signals.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string LiveTag = "live";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.Services.AddHealthChecks().AddCheck("self", () => HealthCheckResult.Healthy(), [LiveTag]);
        builder.Services.AddProblemDetails();
        // No per-request log lines and scopes from IHttpClientFactory: chunk and heartbeat traffic would log four lines a
        // request at Information; failures are logged where they are handled, with what they mean.
        builder.Services.ConfigureHttpClientDefaults(http => http.RemoveAllLoggers().ConfigurePrimaryHttpMessageHandler(CreateDefaultHandler));
        builder.Services.AddHostedService<ParentProcessWatchdog>();
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

        var otel = new ServiceCollectionOpenTelemetryBuilder(builder.Services);
        otel.WithTracing(tracing => tracing
                .AddSource("Microsoft.AspNetCore", "System.Net.Http", "Npgsql", "MassTransit", "Dfs.*"))
            .WithMetrics(metrics => metrics
                .AddMeter("Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "System.Net.Http",
                    "System.Runtime", "Npgsql", "MassTransit", "Dfs.*"));

        // Only export when someone listens: the exporter reads OTEL_* itself (endpoint, headers, service name).
        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
            otel.UseOtlpExporter();

        builder.Services.AddHostedService<TelemetryStarter>();
        return builder;
    }

    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.Use(TagServerSpan);
        app.MapHealthChecks("/health");
        app.MapHealthChecks("/alive", new HealthCheckOptions { Predicate = check => check.Tags.Contains(LiveTag) });
        return app;
    }

    /// <summary>ASP.NET Core 10 server spans carry no route: add it and the status so traces are readable.</summary>
    private static async Task TagServerSpan(HttpContext context, Func<Task> next)
    {
        await next();
        if (Activity.Current is not { } activity) return;
        if (context.GetEndpoint() is RouteEndpoint route) activity.SetTag("http.route", route.RoutePattern.RawText);
        activity.SetTag("http.response.status_code", context.Response.StatusCode);
        if (context.Response.StatusCode >= 500) activity.SetStatus(ActivityStatusCode.Error);
    }

    private sealed class ServiceCollectionOpenTelemetryBuilder(IServiceCollection services) : IOpenTelemetryBuilder
    {
        public IServiceCollection Services { get; } = services;
    }

    /// <summary>The providers are lazy singletons; resolving them at start makes the SDK subscribe to sources and meters.</summary>
    private sealed class TelemetryStarter(IServiceProvider services) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            services.GetService<TracerProvider>();
            services.GetService<MeterProvider>();
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
