using System.IO.Pipelines;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;

namespace Dfs.StorageNode.Chunks;

/// <summary>What a pipelined PUT made here and below: this node's own outcome and what its downstream answered.</summary>
public sealed record PipelinedPut(PutChunkOutcome Outcome, ChunkPipelineResult Downstream);

/// <summary>
/// One link of a synchronous replication chain: the chunk's bytes go to this node's store and, as they are read, on to the
/// next node, which does the same with the rest of the chain. The bytes are read once from the request and never held
/// whole; a slow downstream slows the read (the pipe's back-pressure), a failed or hung one is cut off and the local copy
/// still completes, so the answer says exactly how many durable copies exist from here down.
/// </summary>
public sealed class ChunkPipeline(ChunkStore store, IStorageNodeClient nodes, ILogger<ChunkPipeline> logger)
{
    private static readonly PipeOptions Options = new(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19, useSynchronizationContext: false);

    public async Task<PipelinedPut> PutAsync(string id, Stream body, long? length, IReadOnlyList<Uri> downstream, TimeSpan hop, CancellationToken ct)
    {
        var pipe = new Pipe(Options);
        using var forwarding = CancellationTokenSource.CreateLinkedTokenSource(ct);
        forwarding.CancelAfter(hop * downstream.Count);
        var content = new StreamContent(pipe.Reader.AsStream(leaveOpen: true), 1 << 16);
        if (length is { } declared) content.Headers.ContentLength = declared;
        var forward = ForwardAsync(id, content, downstream, hop, pipe.Reader, forwarding.Token);

        var tee = new TeeStream(body, pipe.Writer);
        PutChunkOutcome outcome;
        try
        {
            outcome = await store.PutAsync(id, tee, length, ct);
        }
        catch (Exception e)
        {
            await tee.AbortAsync(e);
            await forwarding.CancelAsync();
            await forward;
            throw;
        }
        if (outcome is not (PutChunkOutcome.Created or PutChunkOutcome.AlreadyExists))
        {
            // This node has no copy, so nothing below it counts: the caller starts again elsewhere.
            await tee.AbortAsync(new InvalidOperationException($"the upstream node refused the chunk: {outcome}"));
            await forwarding.CancelAsync();
            await forward;
            return new PipelinedPut(outcome, new ChunkPipelineResult(0));
        }
        await tee.CompleteAsync();
        var result = await forward;
        return new PipelinedPut(outcome, result);
    }

    private async Task<ChunkPipelineResult> ForwardAsync(string id, HttpContent content, IReadOnlyList<Uri> downstream, TimeSpan hop,
        PipeReader reader, CancellationToken ct)
    {
        // Let the local store start before the connection is opened; nothing below needs this thread.
        await Task.Yield();
        try
        {
            return await nodes.PutChunkPipelineAsync(downstream[0], id, content, [.. downstream.Skip(1)], hop, ct);
        }
        catch (StorageNodeException e)
        {
            logger.LogWarning("Forwarding chunk {ChunkId} to {Node} failed: {Reason}", id, downstream[0], e.Message);
            return new ChunkPipelineResult(0, e.Kind, $"{downstream[0]}: {e.Message}");
        }
        catch (OperationCanceledException)
        {
            logger.LogWarning("Forwarding chunk {ChunkId} to {Node} timed out or was cut off", id, downstream[0]);
            return new ChunkPipelineResult(0, StorageFailureKind.Timeout, $"{downstream[0]}: no answer within {hop.TotalSeconds * downstream.Count:0} s");
        }
        finally
        {
            // The request is over whatever happened: release a writer still waiting for room in the pipe.
            await reader.CompleteAsync();
            content.Dispose();
        }
    }

    /// <summary>Reads the request body and writes what it read into the pipe to the next node, until that one is gone.</summary>
    private sealed class TeeStream(Stream inner, PipeWriter next) : Stream
    {
        private bool _forwarding = true;
        private bool _completed;

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = await inner.ReadAsync(buffer, cancellationToken);
            // The end of the body goes on at once, so the next node fsyncs its copy while this one does.
            if (read == 0) await CompleteAsync();
            else if (_forwarding)
            {
                try
                {
                    var flushed = await next.WriteAsync(buffer[..read], cancellationToken);
                    if (flushed.IsCompleted) _forwarding = false;
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The downstream request ended (its reader is complete): keep storing here.
                    _forwarding = false;
                }
            }
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public ValueTask CompleteAsync() => Complete(null);

        /// <summary>Ends the downstream body with an error, so the next node keeps nothing of it.</summary>
        public ValueTask AbortAsync(Exception reason) => Complete(reason);

        private ValueTask Complete(Exception? reason)
        {
            if (_completed) return ValueTask.CompletedTask;
            _completed = true;
            return next.CompleteAsync(reason);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("Read asynchronously.");
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
