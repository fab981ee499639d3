using System.Buffers;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Files;

/// <summary>
/// Chunk-sized buffers, pooled: uploads fill one chunk at a time and downloads verify one chunk before
/// sending it, so memory is bounded by chunk size × transfers in flight, whatever the file size.
/// </summary>
public sealed class ChunkBuffers(IOptions<GatewayOptions> options)
{
    private readonly ArrayPool<byte> _pool = ArrayPool<byte>.Create(
        maxArrayLength: (int)Math.Max(options.Value.ChunkSizeBytes, 1 << 20), maxArraysPerBucket: 8);

    public byte[] Rent(long size) => _pool.Rent((int)size);

    public void Return(byte[] buffer) => _pool.Return(buffer);
}
