using System.Diagnostics;
using System.Threading.Channels;
using MassTransit;

namespace Dfs.Gateway.Messaging;

/// <summary>
/// Publishes events after commits without making clients wait for the broker: a PUT succeeds while
/// RabbitMQ is down. A message that cannot be published in time is dropped and logged; the Replicator's
/// reconciler finds the work anyway, so a lost event delays repair but never loses it. Each message keeps the trace of
/// the request that committed it: its publish (and, through MassTransit's headers, the Replicator's consume and copies)
/// belongs to that request's trace.
/// </summary>
public sealed class EventPublisher(IBus bus, GatewayMetrics metrics, ILogger<EventPublisher> logger) : BackgroundService
{
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromSeconds(5);

    private readonly Channel<(object Message, ActivityContext Parent)> _queue = Channel.CreateBounded<(object, ActivityContext)>(new BoundedChannelOptions(10_000)
    {
        FullMode = BoundedChannelFullMode.DropOldest,
        SingleReader = true,
    });

    public void Enqueue(object message)
    {
        if (!_queue.Writer.TryWrite((message, Activity.Current?.Context ?? default))) metrics.EventDropped();
    }

    public void FilesDeleted(IReadOnlyList<Namespace.DeletedFile> files, DateTime at)
    {
        foreach (var file in files) Enqueue(new Contracts.Messages.FileDeleted(file.FileId, file.Path, file.ChunkIds, at));
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await foreach (var (message, parent) in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            using var activity = GatewayMetrics.Source.StartActivity("dfs.publish " + message.GetType().Name, ActivityKind.Internal, parent);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            timeout.CancelAfter(PublishTimeout);
            try
            {
                await bus.Publish(message, message.GetType(), timeout.Token);
                metrics.EventPublished();
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                metrics.EventDropped();
                activity?.SetStatus(ActivityStatusCode.Error, e.Message);
                logger.LogWarning("Could not publish {Event} ({Error}); the reconciler will pick up the work", message.GetType().Name, e.Message);
            }
        }
    }
}
