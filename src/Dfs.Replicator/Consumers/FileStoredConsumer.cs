using Dfs.Contracts.Internal;
using Dfs.Contracts.Messages;
using Dfs.Replicator.Diagnostics;
using Dfs.Replicator.Hosting;
using Dfs.Replicator.Replication;
using MassTransit;
using Microsoft.Extensions.Options;

namespace Dfs.Replicator.Consumers;

/// <summary>
/// Brings a newly committed file's chunks to their replication factor. Works from the gateway's current state
/// of the chunks, not the holders in the message, so a redelivered message makes no extra copy.
/// </summary>
public sealed class FileStoredConsumer(
    ChunkReplicator replicator,
    ReplicatorClients clients,
    ReplicatorMetrics metrics,
    ILogger<FileStoredConsumer> logger) : IConsumer<FileStored>
{
    /// <summary>Chunk ids per state request, so a huge file does not make one huge request.</summary>
    internal const int StateBatchSize = 1000;

    public async Task Consume(ConsumeContext<FileStored> context)
    {
        var message = context.Message;
        var ct = context.CancellationToken;
        try
        {
            var ids = message.Chunks.Select(c => c.ChunkId).Distinct(StringComparer.Ordinal).ToList();
            if (ids.Count == 0) return;
            // Stored with every copy already (replication 1, or chunks shared with a file that has them): asking the
            // gateway would cost a request and a query per file for nothing. Copies lost since are the reconciler's.
            if (message.Chunks.All(c => c.NodeIds.Distinct().Count() >= message.ReplicationFactor))
            {
                logger.LogDebug("{Path} v{Version}: stored with all {Factor} copies", message.Path, message.Version, message.ReplicationFactor);
                return;
            }

            var gateway = clients.Gateway();
            var state = new List<ChunkWork>(ids.Count);
            foreach (var batch in ids.Chunk(StateBatchSize))
                state.AddRange((await gateway.GetChunkStateAsync(batch, ct)).Chunks);

            // Chunks the gateway no longer knows belong to a version deleted since: nothing to do for them.
            var pending = state.Where(c => c.Holders.Count < c.Wanted).ToList();
            if (pending.Count == 0)
            {
                logger.LogDebug("{Path} v{Version}: every chunk already has its copies", message.Path, message.Version);
                return;
            }

            var nodes = await gateway.GetNodesAsync(ct);
            var outcomes = await replicator.EnsureReplicasAsync(pending, nodes, ct);
            var failed = outcomes.Where(o => o.CopyFailed).ToList();
            if (failed.Count > 0) throw new ReplicationIncompleteException(message.Path, message.Version, failed);

            var limited = outcomes.Count(o => o.LimitedByLiveNodes > 0);
            if (limited > 0)
            {
                logger.LogWarning("{Path} v{Version}: {Limited} chunks stay under-replicated until more nodes are live",
                    message.Path, message.Version, limited);
            }
            logger.LogInformation("{Path} v{Version}: {Copies} copies made for {Chunks} chunks",
                message.Path, message.Version, outcomes.Sum(o => o.CopiesMade), pending.Count);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            metrics.ConsumerFault(nameof(FileStored));
            logger.LogWarning("Replicating {Path} v{Version} failed (attempt {Attempt}): {Reason}",
                message.Path, message.Version, context.GetRetryAttempt() + 1, e.Message);
            throw;
        }
    }
}

public sealed class FileStoredConsumerDefinition : ConsumerDefinition<FileStoredConsumer>
{
    private readonly ReplicatorRetryOptions _retry;

    public FileStoredConsumerDefinition(IOptions<ReplicatorOptions> options)
    {
        _retry = options.Value.Retry;
        EndpointName = ReplicatorQueues.FileStored;
        // Each message copies up to MaxParallelCopies chunks at once; this bounds the copies in flight.
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<FileStoredConsumer> consumerConfigurator, IRegistrationContext context) =>
        endpointConfigurator.UseReplicatorRetry(_retry);
}
