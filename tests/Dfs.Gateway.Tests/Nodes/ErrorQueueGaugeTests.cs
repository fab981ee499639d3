using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Messaging;
using Dfs.Gateway.Tests.Api;
using Dfs.Replicator.Consumers;
using Dfs.Testing;
using RabbitMQ.Client;

namespace Dfs.Gateway.Tests.Nodes;

/// <summary>Messages the Replicator gave up on, as a real RabbitMQ holds them, in the API and in the gateway's gauge.</summary>
public sealed class ErrorQueueGaugeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Messages_in_the_replicators_error_queues_show_in_the_api_and_the_gauge()
    {
        // The broker the AppHost runs for a local cluster (the machine's rabbitmq-server), alone.
        await using var broker = await DfsServer.StartRabbitMqAsync(Ct);
        var messaging = broker.ConnectionString;

        const string queue = ReplicatorQueues.FileStored + ReplicatorQueues.ErrorSuffix;
        await using (var connection = await new ConnectionFactory { Uri = new Uri(messaging) }.CreateConnectionAsync(Ct))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
            for (var i = 0; i < 3; i++)
                await channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { Persistent = true }, "{}"u8.ToArray(), Ct);
        }

        await using var gateway = new GatewayFactory().With("ConnectionStrings:messaging", messaging);
        gateway.StartServer();
        using var instruments = new GatewayInstruments(gateway);
        using var http = gateway.CreateClient();

        // The gauge is measured at start and every 10 s after: poll.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var status = await http.GetFromJsonAsync<ReplicationStatus>(ApiRoutes.Replication, DfsJson.Options, Ct);
            var gauge = instruments.Gauges().GetValueOrDefault("dfs.gateway.replication.error_queue_messages");
            if (status?.ErrorQueues?.GetValueOrDefault(queue) == 3 && gauge == 3)
            {
                Assert.Equal(ErrorQueueInspector.Queues.Order(), status.ErrorQueues.Keys.Order());
                Assert.Null(status.MessagingError);
                break;
            }
            Assert.True(DateTime.UtcNow < deadline, $"queues {System.Text.Json.JsonSerializer.Serialize(status?.ErrorQueues)}, gauge {gauge}");
            await Task.Delay(250, Ct);
        }
    }
}
