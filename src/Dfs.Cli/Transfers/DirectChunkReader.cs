using System.Buffers;
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
/// against its SHA-256 before it is written at its offset; a chunk no node serves right is read through the gateway
/// (a Range GET, checked the same way). The gateway only decides access and hands out the layout.
/// </summary>
internal sealed class DirectChunkReader(IGatewayApi gateway)
{
    private const int Parallel = 4;

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

    /// <summary>How many chunks came from a node, and how many through the gateway.</summary>
    public (int FromNodes, int ThroughGateway) Counts => (_fromNodes, _throughGateway);

    private int _fromNodes;
    private int _throughGateway;

    public async Task ReadAsync(FileLayout layout, SafeFileHandle file, ITransferTask progress, CancellationToken ct)
    {
        await System.Threading.Tasks.Parallel.ForEachAsync(layout.Chunks, new ParallelOptions { MaxDegreeOfParallelism = Parallel, CancellationToken = ct },
            async (chunk, token) =>
            {
                var buffer = ArrayPool<byte>.Shared.Rent(checked((int)chunk.Size));
                try
                {
                    var data = buffer.AsMemory(0, (int)chunk.Size);
                    if (await TryNodesAsync(chunk, data, token)) Interlocked.Increment(ref _fromNodes);
                    else
                    {
                        await ThroughGatewayAsync(layout.Path, chunk, data, token);
                        Interlocked.Increment(ref _throughGateway);
                    }
                    await RandomAccess.WriteAsync(file, data, chunk.Offset, token);
                    // Chunks finish on several threads; a display counts on one.
                    lock (progress) progress.Advance(chunk.Size);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            });
    }

    private static async Task<bool> TryNodesAsync(ChunkSource chunk, Memory<byte> data, CancellationToken ct)
    {
        foreach (var url in chunk.Urls)
        {
            try
            {
                using var response = await Nodes.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, ct);
                if (!response.IsSuccessStatusCode) continue;
                await using var body = await response.Content.ReadAsStreamAsync(ct);
                if (await FillAsync(body, data, ct) == data.Length && ChunkIds.Matches(data.Span, chunk.Id)) return true;
            }
            catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException && !ct.IsCancellationRequested)
            {
            }
        }
        return false;
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
