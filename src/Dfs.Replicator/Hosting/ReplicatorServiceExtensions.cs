using Dfs.Replicator.Consumers;
using Dfs.Replicator.Diagnostics;
using Dfs.Replicator.Replication;
using Dfs.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Hosting;

/// <summary>
/// Composition of the Replicator, for its own process (<see cref="AddReplicator{TBuilder}"/>) and for a host that
/// embeds it on its own bus (the gateway's embedded profile: <see cref="AddReplicatorCore"/> plus
/// <see cref="AddReplicatorConsumers"/> inside its AddMassTransit).
/// </summary>
public static class ReplicatorServiceExtensions
{
    /// <summary>
    /// Options, the replicator, the reconciler (a hosted service) and the HTTP clients. A host may register its own
    /// <see cref="IGatewayAddress"/> before calling this; the default is the gateway by service discovery.
    /// </summary>
    public static IServiceCollection AddReplicatorCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ReplicatorOptions>()
            .Bind(configuration.GetSection(ReplicatorOptions.SectionName))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ReplicatorOptions>, ReplicatorOptionsValidator>());

        services.AddMetrics();
        services.TryAddSingleton<IGatewayAddress, DiscoveredGatewayAddress>();
        services.AddHttpClient(ReplicatorClients.StorageNodesHttpClient, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddGatewayInternalApi(sp => sp.GetRequiredService<IGatewayAddress>().Current);
        services.TryAddSingleton<ReplicatorClients>();

        services.TryAddSingleton<ReplicatorMetrics>();
        services.TryAddSingleton<ChunkReplicator>();
        if (!services.Any(d => d.ServiceType == typeof(Reconciler)))
        {
            services.AddSingleton<Reconciler>();
            services.AddHostedService(sp => sp.GetRequiredService<Reconciler>());
        }
        return services;
    }

    /// <summary>The consumers with their definitions (queue names, retry policy, concurrency).</summary>
    public static void AddReplicatorConsumers(this IBusRegistrationConfigurator bus)
    {
        bus.AddConsumer<FileStoredConsumer, FileStoredConsumerDefinition>();
        bus.AddConsumer<NodeLostConsumer, NodeLostConsumerDefinition>();
        bus.AddConsumer<NodeDrainingConsumer, NodeDrainingConsumerDefinition>();
        bus.AddConsumer<FileDeletedConsumer, FileDeletedConsumerDefinition>();
    }

    /// <summary>
    /// The standalone Replicator (ServiceDefaults are the caller's): RabbitMQ when ConnectionStrings:messaging is
    /// set (amqp://user:pass@host:port), otherwise an in-memory bus, which is only useful for local runs.
    /// </summary>
    public static TBuilder AddReplicator<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        // Defaults in code rather than in an appsettings.json: the gateway references this assembly, and a
        // referenced project's appsettings.json would be copied over the gateway's own.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        builder.Logging.AddFilter("MassTransit", LogLevel.Information);

        builder.Services.AddReplicatorCore(builder.Configuration);
        var messaging = MessagingUri(builder.Configuration);
        builder.Services.AddMassTransit(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            x.AddReplicatorConsumers();
            if (messaging is null)
            {
                x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
            }
            else
            {
                x.UsingRabbitMq((context, cfg) =>
                {
                    cfg.Host(messaging);
                    cfg.ConfigureEndpoints(context);
                });
            }
        });
        return builder;
    }

    private static Uri? MessagingUri(IConfiguration configuration)
    {
        var value = configuration.GetConnectionString("messaging");
        if (string.IsNullOrWhiteSpace(value)) return null;
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" or "rabbitmq"
            ? uri
            : throw new InvalidOperationException(
                "ConnectionStrings:messaging (ConnectionStrings__messaging) must be a RabbitMQ URI such as amqp://user:pass@127.0.0.1:5672.");
    }
}
