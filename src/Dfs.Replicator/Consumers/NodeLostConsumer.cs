using Dfs.Contracts.Messages;
using Dfs.Replicator.Hosting;
using Dfs.Replicator.Replication;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Consumers;

/// <summary>A dead node leaves its chunks short of a copy: repair now instead of at the next periodic pass.</summary>
public sealed class NodeLostConsumer(Reconciler reconciler, ILogger<NodeLostConsumer> logger) : IConsumer<NodeLost>
{
    public async Task Consume(ConsumeContext<NodeLost> context)
    {
        var message = context.Message;
        logger.LogWarning("Node {Name} ({NodeId}) was declared dead (last heartbeat {LastHeartbeatAt:o}); reconciling now",
            message.Name, message.NodeId, message.LastHeartbeatAt);
        // Copy failures are left to the periodic passes; only an unreachable gateway makes this throw (and retry).
        var result = await reconciler.RunOnceAsync(context.CancellationToken);
        logger.LogInformation("After losing {Name}: {Chunks} under-replicated chunks, {CopiesMade} copies made, {CopiesMissing} failed",
            message.Name, result.Chunks, result.CopiesMade, result.CopiesMissing);
    }
}

public sealed class NodeLostConsumerDefinition : ConsumerDefinition<NodeLostConsumer>
{
    private readonly ReplicatorRetryOptions _retry;

    public NodeLostConsumerDefinition(IOptions<ReplicatorOptions> options)
    {
        _retry = options.Value.Retry;
        EndpointName = ReplicatorQueues.NodeLost;
        // Passes are serialized by the reconciler anyway.
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<NodeLostConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseReplicatorRetry(_retry);
}
