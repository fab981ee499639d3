using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.Gateway.Data;
using Dfs.Gateway.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>The check of a returning node's inventory against its replica records, on SQLite and on PostgreSQL.</summary>
public sealed class ReplicaVerifierTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_record_of_a_chunk_gone_from_disk_is_dropped_but_one_stored_while_the_inventory_is_listed_stays(string provider)
    {
        await using var meta = await MetadataDatabases.CreateAsync(provider);
        var registry = meta.Get<NodeRegistry>();
        var node = Guid.NewGuid();
        await registry.RegisterAsync(new NodeRegistration(node, "a", "http://127.0.0.1:1/a", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct);
        byte[] lost = "lost while the node was away"u8.ToArray(), kept = "on disk and listed"u8.ToArray(), late = "stored during the listing"u8.ToArray();
        await meta.CommitOnAsync("/lost", lost, 1, node);
        await meta.CommitOnAsync("/kept", kept, 1, node);
        // The node's inventory as a listing taken just before a new upload stored (and the gateway recorded) one more chunk.
        var inventory = new ListingDuringUpload([ChunkIds.Compute(kept)], () => meta.CommitOnAsync("/late", late, 1, node));
        var verifier = new ReplicaVerifier(registry, meta.Get<IServiceScopeFactory>(), inventory, NullLogger<ReplicaVerifier>.Instance);

        await verifier.VerifyAsync(node, Ct);

        var recorded = await meta.InScopeAsync(sp => sp.GetRequiredService<MetadataDbContext>().Replicas
            .Where(r => r.NodeId == node).Select(r => r.ChunkId).ToListAsync(Ct));
        // The chunk written during the listing keeps its only copy: dropping it would make a just-acknowledged file unreadable.
        Assert.Equal(new[] { ChunkIds.Compute(kept), ChunkIds.Compute(late) }.Order(StringComparer.Ordinal), recorded.Order(StringComparer.Ordinal));
        Assert.True(registry.Find(node)!.Verified);
    }

    /// <summary>A node whose listing lets an upload land (stored and recorded) before it answers, without showing it.</summary>
    private sealed class ListingDuringUpload(IReadOnlyList<string> listed, Func<Task> upload) : IStorageNodeClient
    {
        public async Task<ChunkInventoryPage> ListChunksAsync(Uri node, string? after = null, int limit = 1000, CancellationToken ct = default)
        {
            await upload();
            return new ChunkInventoryPage([.. listed.Select(id => new StoredChunk(id, 1))], null);
        }

        public Task<bool> PutChunkAsync(Uri node, string chunkId, ReadOnlyMemory<byte> data, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> PutChunkAsync(Uri node, string chunkId, Stream data, long length, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<ChunkPipelineResult> PutChunkPipelineAsync(Uri node, string chunkId, HttpContent content, IReadOnlyList<Uri> downstream, TimeSpan hopTimeout,
            CancellationToken ct = default) => throw new NotSupportedException();
        public Task<int> ReadChunkAsync(Uri node, string chunkId, Memory<byte> buffer, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<Stream> OpenChunkAsync(Uri node, string chunkId, long? from = null, long? to = null, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> HasChunkAsync(Uri node, string chunkId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<bool> DeleteChunkAsync(Uri node, string chunkId, CancellationToken ct = default) => throw new NotSupportedException();
        public Task<StorageNodeStatus> GetStatusAsync(Uri node, CancellationToken ct = default) => throw new NotSupportedException();
    }
}
