using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using Dfs.Cli.Remote;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Microsoft.Win32.SafeHandles;

namespace Dfs.Cli.Transfers;

/// <summary>
/// Reads a file's chunks straight from the storage nodes with the signed URLs of its layout, several at once, each checked
/// against its SHA-256 before it is written at its offset; a copy slow to answer gets the next one asked too
/// (<see cref="ReplicaRace{TReplica}"/>), and a chunk no node serves right is read through the gateway (a Range GET, checked the
/// same way). The gateway only decides access and hands out the layout.
/// </summary>
internal sealed class DirectChunkReader(IGatewayApi gateway)
{
    private const int Parallel = 4;

    /// <summary>Chunk buffers held at once: those being read, and those read early waiting for the hash.</summary>
    private const int Parked = 2 * Parallel;

    // Nodes are reached without the gateway's credentials: the grant in each URL is the whole authorization.
    private static readonly HttpClient Nodes = new(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = 64,
        PooledConnectionLifetime = TimeSpan.FromMinutes(2),
        ConnectTimeout = TimeSpan.FromSeconds(5),
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        Timeout = TimeSpan.FromMinutes(5),
    };

    /// <summary>A node read may take this many times the median pace of this download's reads before it is hedged.</summary>
    private const int HedgeFactor = 4;

    /// <summary>Never hedged sooner: a shorter wait measures the machine's scheduling more than the node.</summary>
    private static readonly TimeSpan MinHedgeDelay = TimeSpan.FromSeconds(1);

    /// <summary>Before any read has finished, nothing says what is slow: wait this long.</summary>
    private static readonly TimeSpan FirstHedgeDelay = TimeSpan.FromSeconds(2);

    /// <summary>Milliseconds per MiB of this download's latest node reads (at most <see cref="PacesKept"/>), for the hedge delay.</summary>
    private readonly Queue<double> _paces = new();

    private const int PacesKept = 32;

    /// <summary>How many chunks came from a node, and how many through the gateway.</summary>
    public (int FromNodes, int ThroughGateway) Counts => (_fromNodes, _throughGateway);

    private int _fromNodes;
    private int _throughGateway;

    /// <summary>
    /// Fills <paramref name="file"/> with the layout's chunks and returns the whole file's SHA-256, hashed in order as the
    /// chunks arrive (a chunk that arrives early waits in memory, at most <see cref="Parked"/> of them, for those before it).
    /// </summary>
    public async Task<string> ReadAsync(FileLayout layout, SafeFileHandle file, ITransferTask progress, CancellationToken ct)
    {
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var room = new SemaphoreSlim(Parked);
        var parked = new Dictionary<int, (byte[] Buffer, int Length)>();
        var gate = new Lock();
        var next = 0;
        try
        {
            await System.Threading.Tasks.Parallel.ForEachAsync(layout.Chunks, new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = ct },
                async (chunk, token) =>
                {
                    await room.WaitAsync(token);
                    var size = checked((int)chunk.Size);
                    byte[]? buffer = null;
                    var handedOver = false;
                    try
                    {
                        buffer = await FromNodesAsync(chunk, size, token);
                        if (buffer is not null) Interlocked.Increment(ref _fromNodes);
                        else
                        {
                            buffer = ArrayPool<byte>.Shared.Rent(size);
                            await ThroughGatewayAsync(layout.Path, chunk, buffer.AsMemory(0, size), token);
                            Interlocked.Increment(ref _throughGateway);
                        }
                        var data = buffer.AsMemory(0, size);
                        await RandomAccess.WriteAsync(file, data, chunk.Offset, token);
                        // Chunks finish on several threads; the display and the whole-file hash take them one at a time, in order.
                        lock (gate)
                        {
                            progress.Advance(chunk.Size);
                            parked[chunk.Index] = (buffer, (int)chunk.Size);
                            handedOver = true;
                            while (parked.Remove(next, out var ready))
                            {
                                whole.AppendData(ready.Buffer, 0, ready.Length);
                                ArrayPool<byte>.Shared.Return(ready.Buffer);
                                room.Release();
                                next++;
                            }
                        }
                    }
                    finally
                    {
                        if (!handedOver)
                        {
                            if (buffer is not null) ArrayPool<byte>.Shared.Return(buffer);
                            room.Release();
                        }
                    }
                });
        }
        finally
        {
            foreach (var (buffer, _) in parked.Values) ArrayPool<byte>.Shared.Return(buffer);
        }
        // Chunk indexes 0..n-1 with none missing, or the file's hash is not the file's.
        if (next != layout.Chunks.Count)
            throw new CliException(ExitCodes.Integrity, $"the layout of {layout.Path} lists chunks out of order or with gaps; nothing was saved");
        return Convert.ToHexStringLower(whole.GetHashAndReset());
    }

    /// <summary>The chunk in a buffer rented from the shared pool, from the layout or the first node that serves it right; null when none does.</summary>
    private async Task<byte[]?> FromNodesAsync(ChunkSource chunk, int size, CancellationToken ct)
    {
        // A small file's bytes came with the layout; they are checked like any node's.
        if (chunk.Data is { } inline)
        {
            if (inline.Length != size || !ChunkIds.Matches(inline, chunk.Id)) return null;
            var copy = ArrayPool<byte>.Shared.Rent(size);
            inline.CopyTo(copy, 0);
            return copy;
        }
        var race = new ReplicaRace<string>(chunk.Urls, HedgeDelay(size));
        return (await race.FirstAsync((url, token) => FromNodeAsync(url, chunk.Id, size, token), ct))?.Take();
    }

    /// <summary>One node's copy in a rented buffer; null when the node fails or serves wrong bytes.</summary>
    private async Task<RentedChunk?> FromNodeAsync(string url, string chunkId, int size, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await Nodes.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode) return Release(buffer);
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            if (await FillAsync(body, buffer.AsMemory(0, size), ct) != size || !ChunkIds.Matches(buffer.AsSpan(0, size), chunkId)) return Release(buffer);
            var pace = Stopwatch.GetElapsedTime(started).TotalMilliseconds / Math.Max(1, size / (1024.0 * 1024));
            lock (_paces)
            {
                if (_paces.Count == PacesKept) _paces.Dequeue();
                _paces.Enqueue(pace);
            }
            return new RentedChunk(buffer);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return Release(buffer);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }

        static RentedChunk? Release(byte[] buffer)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }
    }

    /// <summary>A chunk in a buffer rented from the shared pool: taken by the winner, returned by disposing (a read that lost).</summary>
    private sealed class RentedChunk(byte[] buffer) : IDisposable
    {
        private byte[]? _buffer = buffer;

        public byte[] Take() => Interlocked.Exchange(ref _buffer, null) ?? throw new InvalidOperationException("The chunk was taken already.");

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _buffer, null) is { } buffer) ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private TimeSpan HedgeDelay(int size)
    {
        double? median;
        lock (_paces) median = _paces.Count == 0 ? null : _paces.Order().ElementAt((_paces.Count - 1) / 2);
        if (median is null) return FirstHedgeDelay;
        var typical = TimeSpan.FromMilliseconds(HedgeFactor * median.Value * size / (1024.0 * 1024));
        return typical > MinHedgeDelay ? typical : MinHedgeDelay;
    }

    private async Task ThroughGatewayAsync(string path, ChunkSource chunk, Memory<byte> data, CancellationToken ct)
    {
        await using var download = await gateway.GetFileAsync(path, new ByteRange(chunk.Offset, chunk.Offset + chunk.Size - 1), ct);
        var read = await FillAsync(download.Content, data, ct);
        // The file may have been replaced since its layout was read: the whole download is then tried again.
        if (read != data.Length || !ChunkIds.Matches(data.Span, chunk.Id))
            throw new TransferInterruptedException($"chunk {chunk.Index} of {path} changed while it was read (the file was replaced?)");
    }

    private static async Task<int> FillAsync(Stream source, Memory<byte> destination, CancellationToken ct)
    {
        var total = 0;
        int read;
        while (total < destination.Length && (read = await source.ReadAsync(destination[total..], ct)) > 0) total += read;
        // One byte more than announced is a wrong body too.
        if (total == destination.Length && await source.ReadAsync(new byte[1], ct) > 0) return -1;
        return total;
    }
}
