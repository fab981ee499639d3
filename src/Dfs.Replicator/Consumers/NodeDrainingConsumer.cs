using Dfs.Contracts.Messages;
using Dfs.Replicator.Hosting;
using Dfs.Replicator.Replication;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Consumers;

/// <summary>
/// A draining node's copies stop counting, so its chunks are short of a copy until they have one elsewhere:
/// start copying now instead of at the next periodic pass. The gateway hands out its chunks as work, with the
/// draining node as a source.
/// </summary>
public sealed class NodeDrainingConsumer(Reconciler reconciler, ILogger<NodeDrainingConsumer> logger) : IConsumer<NodeDraining>
{
    public async Task Consume(ConsumeContext<NodeDraining> context)
    {
        var message = context.Message;
        logger.LogInformation("Node {Name} ({NodeId}) is draining (requested {RequestedAt:o}); reconciling now",
            message.Name, message.NodeId, message.RequestedAt);
        // Copy failures are left to the periodic passes; only an unreachable gateway makes this throw (and retry).
        var result = await reconciler.RunOnceAsync(context.CancellationToken);
        logger.LogInformation("Draining {Name}: {Chunks} under-replicated chunks, {CopiesMade} copies made, {CopiesMissing} failed",
            message.Name, result.Chunks, result.CopiesMade, result.CopiesMissing);
    }
}

public sealed class NodeDrainingConsumerDefinition : ConsumerDefinition<NodeDrainingConsumer>
{
    private readonly ReplicatorRetryOptions _retry;

    public NodeDrainingConsumerDefinition(IOptions<ReplicatorOptions> options)
    {
        _retry = options.Value.Retry;
        EndpointName = ReplicatorQueues.NodeDraining;
        // Passes are serialized by the reconciler anyway.
        ConcurrentMessageLimit = 1;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<NodeDrainingConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseReplicatorRetry(_retry);
}
