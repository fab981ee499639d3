using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Dfs.Gateway.Messaging;

/// <summary>
/// Reads how many messages wait in the Replicator's error queues, with a passive declare over AMQP
/// (no management plugin needed). Without a broker (embedded profile) there are no error queues.
/// </summary>
public sealed class ErrorQueueInspector(IConfiguration configuration, ILogger<ErrorQueueInspector> logger) : IAsyncDisposable
{
    /// <summary>The Replicator's consumer queues plus MassTransit's "_error" suffix.</summary>
    public static IReadOnlyList<string> Queues => Dfs.Replicator.Consumers.ReplicatorQueues.ErrorQueues;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;

    public async Task<(IReadOnlyDictionary<string, long>? Depths, string? Error)> DepthsAsync(CancellationToken ct)
    {
        var connectionString = configuration.GetConnectionString(MessagingExtensions.ConnectionName);
        if (string.IsNullOrEmpty(connectionString)) return (null, null);
        await _gate.WaitAsync(ct);
        try
        {
            if (_connection is not { IsOpen: true })
            {
                if (_connection is not null) await _connection.DisposeAsync();
                _connection = await new ConnectionFactory { Uri = new Uri(connectionString), RequestedConnectionTimeout = TimeSpan.FromSeconds(3) }
                    .CreateConnectionAsync("dfs-gateway-inspector", ct);
            }
            var depths = new Dictionary<string, long>();
            foreach (var queue in Queues)
            {
                // A passive declare of a missing queue closes the channel: one channel per queue.
                await using var channel = await _connection.CreateChannelAsync(cancellationToken: ct);
                try { depths[queue] = (await channel.QueueDeclarePassiveAsync(queue, ct)).MessageCount; }
                catch (OperationInterruptedException) { depths[queue] = 0; }
            }
            return (depths, null);
        }
        catch (Exception e) when (e is BrokerUnreachableException or OperationInterruptedException or IOException or TimeoutException or AlreadyClosedException)
        {
            logger.LogDebug(e, "Error queues unreadable");
            return (null, $"The message broker is unreachable: {e.Message}");
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not null) await _connection.DisposeAsync();
    }
}
