using System.Security.Cryptography;
using Dfs.Contracts.Integrity;

namespace Dfs.Replicator.Tests.Infrastructure;

public sealed record TestChunk(string Id, byte[] Data)
{
    public long Size => Data.Length;

    /// <summary>Random bytes, several buffers long so a copy really streams.</summary>
    public static TestChunk Random(int size = 700 * 1024 + 13)
    {
        var data = RandomNumberGenerator.GetBytes(size);
        return new TestChunk(ChunkIds.Compute(data), data);
    }

    public async Task PutOnAsync(StorageNode node, CancellationToken ct) =>
        await StorageCluster.NodeClient.PutChunkAsync(node.Url, Id, Data, ct);

    /// <summary>True when the node has the chunk and its bytes (read back over HTTP) hash to the id and match.</summary>
    public async Task<bool> IsIntactOnAsync(StorageNode node, CancellationToken ct)
    {
        if (!await StorageCluster.NodeClient.HasChunkAsync(node.Url, Id, ct)) return false;
        await using var stream = await StorageCluster.NodeClient.OpenChunkAsync(node.Url, Id, ct: ct);
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy, ct);
        var bytes = copy.ToArray();
        Assert.Equal(Id, ChunkIds.Compute(bytes));
        Assert.Equal(Data, bytes);
        return true;
    }

    public static async Task<List<StorageNode>> HoldersAsync(TestChunk chunk, IEnumerable<StorageNode> nodes, CancellationToken ct)
    {
        var holders = new List<StorageNode>();
        foreach (var node in nodes)
            if (await StorageCluster.NodeClient.HasChunkAsync(node.Url, chunk.Id, ct)) holders.Add(node);
        return holders;
    }
}
