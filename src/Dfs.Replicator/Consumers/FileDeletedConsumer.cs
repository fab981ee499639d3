using Dfs.Contracts.Messages;
using Dfs.Replicator.Diagnostics;
using Dfs.Replicator.Hosting;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Consumers;

/// <summary>The gateway collects the garbage; this only makes deletions visible in logs and metrics.</summary>
public sealed class FileDeletedConsumer(ReplicatorMetrics metrics, ILogger<FileDeletedConsumer> logger) : IConsumer<FileDeleted>
{
    public Task Consume(ConsumeContext<FileDeleted> context)
    {
        var message = context.Message;
        metrics.FileDeleted();
        logger.LogInformation("{Path} was deleted ({Chunks} chunks released)", message.Path, message.ChunkIds.Count);
        return Task.CompletedTask;
    }
}

public sealed class FileDeletedConsumerDefinition : ConsumerDefinition<FileDeletedConsumer>
{
    private readonly ReplicatorRetryOptions _retry;

    public FileDeletedConsumerDefinition(IOptions<ReplicatorOptions> options)
    {
        _retry = options.Value.Retry;
        EndpointName = ReplicatorQueues.FileDeleted;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<FileDeletedConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseReplicatorRetry(_retry);
}
