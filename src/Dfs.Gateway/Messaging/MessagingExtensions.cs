using Dfs.Replicator.Hosting;
using MassTransit;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace Dfs.Gateway.Messaging;

public static class MessagingExtensions
{
    public const string ConnectionName = "messaging";

    /// <summary>
    /// RabbitMQ when ConnectionStrings:messaging is set (the gateway only publishes; the Replicator process
    /// consumes). Without it (the embedded profile) an in-memory bus, with the Replicator's consumers and
    /// reconciler hosted here, talking to this gateway's own internal API.
    /// </summary>
    public static WebApplicationBuilder AddGatewayMessaging(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EventPublisher>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<EventPublisher>());
        builder.Services.AddSingleton<ErrorQueueInspector>();

        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            builder.Services.AddMassTransit(bus => bus.UsingRabbitMq((_, rabbit) => rabbit.Host(new Uri(connectionString))));
            return builder;
        }

        builder.Services.AddSingleton<IGatewayAddress, SelfAddress>();
        builder.Services.AddReplicatorCore(builder.Configuration);
        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            bus.AddReplicatorConsumers();
            bus.UsingInMemory((context, memory) => memory.ConfigureEndpoints(context));
        });
        return builder;
    }

    /// <summary>The gateway's own bound address, for the Replicator hosted in-process.</summary>
    private sealed class SelfAddress(IServer server) : IGatewayAddress
    {
        public Uri Current =>
            server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() is { } address
                ? new Uri(address.Replace("://+", "://127.0.0.1").Replace("://*", "://127.0.0.1").Replace("://[::]", "://127.0.0.1"))
                : throw new InvalidOperationException("The gateway has not bound an address yet.");
    }
}
