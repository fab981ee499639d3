using System.Diagnostics;
using System.Security.Cryptography;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Messages;
using Dfs.Gateway.Http;
using Dfs.Gateway.Messaging;
using Dfs.Gateway.Nodes;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Files;

/// <summary>What the client asked for and promised about the body (its length when it declared one).</summary>
/// <summary>What <see cref="UploadService.StoreAsync"/> stored: the bytes' length and digests (hex) and where each chunk went.</summary>
public sealed record StoredBytes(long Size, string Md5, string Sha256, long ChunkSize, IReadOnlyList<StoredChunk> Chunks);

public sealed record UploadRequest(string Path, ConflictPolicy Conflict, int ReplicationFactor, string? ExpectedMd5, string? ExpectedSha256,
    long? DeclaredLength = null, Durability Durability = Durability.One, ObjectAttributes? Attributes = null);

/// <summary>
/// PUT: streams the body, cuts it into chunks, stores each on a node (<see cref="ChunkStorer"/>: elsewhere on failure), hashes
/// the whole file on the way, checks the client's digests, and only then commits the version. While a chunk
/// is stored the next ones are read and hashed: up to Dfs:Gateway:ParallelChunkStores stores are in flight,
/// so an upload holds at most that many chunk buffers plus the one being filled. A file no larger than
/// Dfs:Gateway:InlineMaxBytes goes to no node: its bytes are committed with its version.
/// </summary>
public sealed class UploadService(
    ChunkStorer storer,
    ChunkBuffers buffers,
    FileCommitter committer,
    IChunkLeases leases,
    ReadCache cache,
    NodeRegistry registry,
    EventPublisher events,
    IOptions<GatewayOptions> options,
    GatewayMetrics metrics,
    ILogger<UploadService> logger)
{
    public async Task<CommittedFile> UploadAsync(UploadRequest request, Stream body, CancellationToken ct)
    {
        using var activity = GatewayMetrics.Source.StartActivity("dfs.upload");
        activity?.SetTag("dfs.path", request.Path);
        // Until the commit is over, garbage collection must not take chunks this upload stored (they may be shared):
        // the leases go when `held` is disposed, after the commit or the failure.
        await using var held = leases.BeginUpload();
        var stored = await StoreAsync(body, request.DeclaredLength, request.Durability == Durability.All ? request.ReplicationFactor : 1,
            allowInline: true, held, ct);
        return await CommitAsync(request, stored, ct);
    }

    /// <summary>
    /// Reads <paramref name="body"/> to its end, cutting it into chunks stored with <paramref name="copies"/> copies each
    /// (durability=all: every copy, fsynced; otherwise one, and the Replicator the rest), hashing it on the way. The
    /// chunks stay under <paramref name="held"/>'s leases; nothing is committed. An S3 part is stored this way too.
    /// </summary>
    public async Task<StoredBytes> StoreAsync(Stream body, long? declaredLength, int copies, bool allowInline, IUploadLeases held, CancellationToken ct)
    {
        var chunkSize = options.Value.ChunkSizeBytes;
        // Most small files declare their length: a 4 KiB PUT must not rent (and keep pooled) an 8 MiB buffer.
        var bufferSize = (int)(declaredLength is { } declared && declared < chunkSize ? Math.Max(declared, 1) : chunkSize);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<StoredChunk>();
        var inFlight = new Queue<Task<StoredChunk>>();
        // Another gateway may have drained or added a node since this one last looked: place on what is true now.
        await registry.EnsureCurrentAsync(ct);
        using var storing = CancellationTokenSource.CreateLinkedTokenSource(ct);
        long offset = 0;
        try
        {
            for (var index = 0; ; index++)
            {
                var buffer = buffers.Rent(bufferSize);
                int filled;
                try
                {
                    filled = await FillAsync(body, buffer.AsMemory(0, bufferSize), ct);
                }
                catch
                {
                    buffers.Return(buffer);
                    throw;
                }
                if (filled == 0)
                {
                    buffers.Return(buffer);
                    break;
                }
                var data = buffer.AsSpan(0, filled);
                md5.AppendData(data);
                sha.AppendData(data);
                var id = ChunkIds.Compute(data);
                // Hashed just now: a small file read soon after it is written comes from the cache.
                cache.PutVerifiedChunk(id, data);
                try
                {
                    await held.HoldAsync(id, ct);
                }
                catch
                {
                    buffers.Return(buffer);
                    throw;
                }
                if (allowInline && index == 0 && filled < chunkSize && filled <= options.Value.InlineMaxBytes && copies == 1)
                {
                    // The whole file, small enough to live in the metadata store: it is written with the commit.
                    chunks.Add(new StoredChunk(0, id, 0, filled, [], buffer.AsSpan(0, filled).ToArray()));
                    buffers.Return(buffer);
                    offset = filled;
                    break;
                }
                inFlight.Enqueue(StoreOwnedAsync(index, id, offset, buffer, filled, copies, storing.Token));
                offset += filled;
                if (inFlight.Count >= options.Value.ParallelChunkStores) chunks.Add(await inFlight.Dequeue());
                if (filled < chunkSize) break;
            }
            // A body as long as it declared has been read without meeting its end: read it, so that a body that checks
            // itself at its end (S3's checksums and trailers) does, and one longer than declared is refused.
            if (await body.ReadAsync(new byte[1], ct) > 0)
                throw DfsProblemException.BadRequest("Body too long", $"The body is longer than the {offset} bytes it declared; nothing was stored.");
            while (inFlight.Count > 0) chunks.Add(await inFlight.Dequeue());
            return new StoredBytes(offset, Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha.GetHashAndReset()), chunkSize, chunks);
        }
        catch
        {
            // The client went away or a store failed: stop the other stores and wait for them, so their buffers are
            // back in the pool and their chunks under lease until this upload is truly over.
            await storing.CancelAsync();
            await Task.WhenAll(inFlight).ContinueWith(static _ => { }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>Stores a chunk whose buffer it owns and returns to the pool when done.</summary>
    private async Task<StoredChunk> StoreOwnedAsync(int index, string id, long offset, byte[] buffer, int length, int copies, CancellationToken ct)
    {
        try
        {
            var holders = await storer.StoreCopiesAsync(id, buffer.AsMemory(0, length), copies, ct);
            return new StoredChunk(index, id, offset, length, holders);
        }
        finally
        {
            buffers.Return(buffer);
        }
    }

    private async Task<CommittedFile> CommitAsync(UploadRequest request, StoredBytes stored, CancellationToken ct)
    {
        var (offset, md5Hex, shaHex, chunkSize, chunks) = stored;
        if (request.ExpectedMd5 is { } expectedMd5 && expectedMd5 != md5Hex)
            throw new DfsProblemException(StatusCodes.Status400BadRequest, "Digest mismatch",
                $"Content-MD5 says {expectedMd5} but the body's MD5 is {md5Hex}; nothing was stored.");
        if (request.ExpectedSha256 is { } expectedSha && expectedSha != shaHex)
            throw new DfsProblemException(StatusCodes.Status400BadRequest, "Digest mismatch",
                $"Repr-Digest says sha-256 {expectedSha} but the body's SHA-256 is {shaHex}; nothing was stored.");

        var committed = await committer.CommitAsync(request.Path, request.Conflict,
            new UploadedFile(offset, md5Hex, shaHex, chunkSize, request.ReplicationFactor, chunks, request.Attributes), ct);
        metrics.FileStored(offset);
        // Debug: at thousands of small files a second, a line per file costs more than storing the file's metadata.
        logger.LogDebug("Stored {Path} v{Version}: {Size} bytes in {Chunks} chunks", committed.Result.Path, committed.Result.Version, offset, chunks.Count);
        events.Enqueue(new FileStored(committed.FileId, committed.Result.Path, committed.Result.Version, request.ReplicationFactor,
            // Inline chunks are the database's to keep: nothing for the Replicator to copy.
            chunks.Where(c => c.Inline is null).DistinctBy(c => c.Id).Select(c => new StoredChunkHolders(c.Id, c.Size, c.Nodes)).ToList(), committed.Result.CreatedAt));
        return committed;
    }

    /// <summary>Reads until the buffer is full or the body ends.</summary>
    private static async Task<int> FillAsync(Stream body, Memory<byte> buffer, CancellationToken ct)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = await body.ReadAsync(buffer[total..], ct);
            if (read == 0) break;
            total += read;
        }
        return total;
    }
}
