namespace Dfs.Replicator.Replication;

/// <summary>
/// Wraps a source chunk stream while it is sent to a target, so a failed PUT can be blamed on the right side:
/// the HTTP stack reports a failing request body as a failure of the request (the target). Also checks that
/// the source sends exactly the chunk's size.
/// </summary>
internal sealed class CopySourceStream(Stream inner, long expectedLength) : Stream
{
    private long _read;

    /// <summary>Why reading the source failed, when it did (cancellation aside).</summary>
    public Exception? Failure { get; private set; }

    /// <summary>A read was cancelled in flight: when the copy timed out, the source was the slow side.</summary>
    public bool CancelledWhileReading { get; private set; }

    public long BytesRead => Interlocked.Read(ref _read);

    public override bool CanRead => true;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => expectedLength;
    public override long Position { get => BytesRead; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        try
        {
            return Account(inner.Read(buffer), buffer.Length);
        }
        catch (Exception e) when (Record(e))
        {
            throw;
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        try
        {
            return Account(await inner.ReadAsync(buffer, cancellationToken), buffer.Length);
        }
        catch (Exception e) when (Record(e))
        {
            throw;
        }
    }

    private int Account(int read, int requested)
    {
        var total = Interlocked.Add(ref _read, read);
        if (total > expectedLength)
            throw new InvalidDataException($"the source sent more than the chunk's {expectedLength} bytes");
        if (read == 0 && requested > 0 && total != expectedLength)
            throw new InvalidDataException($"the source sent {total} bytes; the chunk has {expectedLength}");
        return read;
    }

    /// <summary>An exception filter: records, never catches.</summary>
    private bool Record(Exception e)
    {
        if (e is OperationCanceledException) CancelledWhileReading = true;
        else Failure ??= e;
        return false;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing) inner.Dispose();
        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}
