using System.Buffers;
using System.Security.Cryptography;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;
using Dfs.StorageNode.Diagnostics;
using Dfs.StorageNode.Hosting;
using Dfs.StorageNode.Usage;
using Microsoft.Extensions.Options;

namespace Dfs.StorageNode.Chunks;

public enum PutChunkOutcome
{
    Created,
    AlreadyExists,
    HashMismatch,
    InsufficientStorage,
    TooLarge,
}

/// <summary>Reading the request body failed (client gone, malformed body): nothing was stored.</summary>
public sealed class ChunkBodyReadException(Exception inner) : Exception("The chunk's bytes could not be read.", inner);

/// <summary>
/// Content-addressed chunks on local disk: DataDir/chunks/ab/cd/&lt;id&gt;. A chunk file only ever appears by an
/// atomic rename of a fully written, fsynced and verified temp file, so readers never see partial chunks.
/// </summary>
public sealed class ChunkStore(
    NodeDataDirectory directory,
    UsageTracker usage,
    StorageNodeMetrics metrics,
    IOptions<StorageNodeOptions> options,
    ILogger<ChunkStore> logger)
{
    private const int MinBufferSize = 64 * 1024;
    private const int MaxBufferSize = 1024 * 1024;

    private readonly Lock[] _commitLocks = Enumerable.Range(0, 64).Select(_ => new Lock()).ToArray();

    private long MaxChunkBytes => options.Value.MaxChunkBytes;

    /// <summary>Creates the folders, deletes leftovers of interrupted writes and counts the chunks.</summary>
    public void Initialize()
    {
        Directory.CreateDirectory(directory.Chunks);
        Directory.CreateDirectory(directory.Temp);
        // Outside chunks/: quarantined copies are neither counted, nor listed, nor served.
        Directory.CreateDirectory(directory.Quarantine);

        var leftovers = 0;
        foreach (var file in Directory.EnumerateFiles(directory.Temp))
        {
            File.Delete(file);
            leftovers++;
        }
        if (leftovers > 0) logger.LogInformation("Deleted {Count} leftover temp files", leftovers);

        long used = 0, count = 0;
        var recurse = new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 };
        foreach (var file in new DirectoryInfo(directory.Chunks).EnumerateFiles("*", recurse))
        {
            if (!IsInPlace(file)) continue;
            used += file.Length;
            count++;
        }
        usage.Initialize(used, count);
        logger.LogInformation("Found {ChunkCount} chunks using {UsedBytes} bytes", count, used);
    }

    public string ChunkPath(string id) => Path.Combine(directory.Chunks, id[..2], id[2..4], id);

    /// <summary>
    /// Streams <paramref name="body"/> to a temp file while hashing it, then renames it into place when it
    /// hashes to <paramref name="id"/>. Whatever happens, no temp file is left behind.
    /// </summary>
    /// <exception cref="ChunkBodyReadException">The body could not be read.</exception>
    public async Task<PutChunkOutcome> PutAsync(string id, Stream body, long? declaredLength, CancellationToken ct)
    {
        if (declaredLength > MaxChunkBytes) return PutChunkOutcome.TooLarge;

        var finalPath = ChunkPath(id);
        if (File.Exists(finalPath))
        {
            // Content addressing: the bytes we have are the bytes being sent. Reading them keeps the connection reusable.
            return await DrainAsync(body, ct) ? PutChunkOutcome.AlreadyExists : PutChunkOutcome.TooLarge;
        }

        using var reservation = usage.Reserve();
        if (declaredLength is { } declared && !reservation.TryGrowTo(declared)) return PutChunkOutcome.InsufficientStorage;

        var tempPath = Path.Combine(directory.Temp, $"{id}.{Guid.NewGuid():N}.tmp");
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize(declaredLength));
        var moved = false;
        try
        {
            long total = 0;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            await using (var file = OpenTemp(tempPath))
            {
                while (true)
                {
                    var read = await ReadBodyAsync(body, buffer, ct);
                    if (read == 0) break;
                    total += read;
                    if (total > MaxChunkBytes) return PutChunkOutcome.TooLarge;
                    if (!reservation.TryGrowTo(total)) return PutChunkOutcome.InsufficientStorage;
                    hash.AppendData(buffer, 0, read);
                    await file.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                file.Flush(flushToDisk: true);
            }

            if (ChunkIds.FromHash(hash.GetHashAndReset()) != id)
            {
                metrics.IntegrityRejected();
                logger.LogWarning("Refused chunk {ChunkId}: its {Bytes} bytes hash to something else", id, total);
                return PutChunkOutcome.HashMismatch;
            }

            Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
            // .NET's File.Move(overwrite: false) checks, then renames: two concurrent PUTs of one id could both
            // "win". The data folder is locked to this process, so an in-process lock per id makes it exact.
            lock (CommitLock(id))
            {
                if (File.Exists(finalPath)) return PutChunkOutcome.AlreadyExists;
                File.Move(tempPath, finalPath, overwrite: false);
                moved = true;
                usage.ChunkAdded(total);
            }
            metrics.ChunkWritten(total);
            return PutChunkOutcome.Created;
        }
        catch (IOException e) when (DiskSpace.IsDiskFull(e))
        {
            logger.LogWarning("Disk full while writing chunk {ChunkId}", id);
            return PutChunkOutcome.InsufficientStorage;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (!moved) TryDelete(tempPath);
        }
    }

    /// <summary>Opens a chunk for reading, or null when absent. Delete is allowed while open (a concurrent DELETE).</summary>
    public FileStream? OpenRead(string id)
    {
        try
        {
            return OpenForReading(ChunkPath(id));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>A chunk file (in place or quarantined) opened for one sequential read; throws when absent.</summary>
    public static FileStream OpenForReading(string path) =>
        new(path, new FileStreamOptions
        {
            Mode = FileMode.Open,
            Access = FileAccess.Read,
            Share = FileShare.Read | FileShare.Delete,
            BufferSize = 0,
            Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
        });

    /// <summary>The chunk's size, or null when absent.</summary>
    public long? GetLength(string id)
    {
        var info = new FileInfo(ChunkPath(id));
        return info.Exists ? info.Length : null;
    }

    /// <summary>True when this call deleted the chunk.</summary>
    public bool Delete(string id)
    {
        // Moved out under the lock, then deleted outside it: readers that have it open keep reading.
        var doomed = Path.Combine(directory.Temp, $"{id}.{Guid.NewGuid():N}.deleting");
        long size;
        lock (CommitLock(id))
        {
            try
            {
                File.Move(ChunkPath(id), doomed, overwrite: false);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return false;
            }
            size = new FileInfo(doomed).Length;
            usage.ChunkRemoved(size);
        }
        File.Delete(doomed);
        return true;
    }

    /// <summary>
    /// Takes the chunk out of the serving set into quarantine/&lt;id&gt; (GETs answer 404 from then on, and a PUT of the
    /// id stores a new copy); returns the quarantined file, or null when the chunk is not here. A copy quarantined
    /// earlier under the same id is replaced: both are the same report.
    /// </summary>
    public string? Quarantine(string id)
    {
        var quarantined = QuarantinePath(id);
        // Made again if someone removed it: a missing folder must not read as a missing chunk below.
        Directory.CreateDirectory(directory.Quarantine);
        lock (CommitLock(id))
        {
            try
            {
                File.Move(ChunkPath(id), quarantined, overwrite: true);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return null;
            }
            usage.ChunkRemoved(new FileInfo(quarantined).Length);
        }
        return quarantined;
    }

    /// <summary>
    /// Puts a quarantined copy back in place (it turned out good); false when another copy took its place meanwhile,
    /// and the quarantined file is then left to the caller.
    /// </summary>
    public bool Restore(string id)
    {
        var finalPath = ChunkPath(id);
        Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
        lock (CommitLock(id))
        {
            if (File.Exists(finalPath)) return false;
            File.Move(QuarantinePath(id), finalPath, overwrite: false);
            usage.ChunkAdded(new FileInfo(finalPath).Length);
        }
        return true;
    }

    public string QuarantinePath(string id) => Path.Combine(directory.Quarantine, id);

    /// <summary>Ids of the quarantined copies, sorted.</summary>
    public IReadOnlyList<string> ListQuarantined() =>
        Directory.Exists(directory.Quarantine)
            ? new DirectoryInfo(directory.Quarantine).EnumerateFiles().Select(f => f.Name).Where(n => ChunkIds.IsValid(n)).Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>
    /// Chunks with ids greater than <paramref name="after"/>, sorted. Walks the ab/cd levels in order and skips
    /// whole folders before <paramref name="after"/>, so a page costs about the folders it touches.
    /// </summary>
    public ChunkInventoryPage List(string? after, int limit)
    {
        var page = new List<StoredChunk>(Math.Min(limit + 1, 1024));
        foreach (var first in SortedSubdirectories(directory.Chunks))
        {
            if (after is not null && string.CompareOrdinal(first.Name, after[..2]) < 0) continue;
            foreach (var second in SortedSubdirectories(first.FullName))
            {
                if (after is not null && string.CompareOrdinal(first.Name + second.Name, after[..4]) < 0) continue;
                foreach (var file in second.EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
                {
                    if (!IsInPlace(file)) continue;
                    if (after is not null && string.CompareOrdinal(file.Name, after) <= 0) continue;
                    long size;
                    try { size = file.Length; }
                    catch (FileNotFoundException) { continue; }
                    page.Add(new StoredChunk(file.Name, size));
                    // One more than asked tells whether another page follows.
                    if (page.Count > limit)
                    {
                        page.RemoveAt(limit);
                        return new ChunkInventoryPage(page, page[^1].Id);
                    }
                }
            }
        }
        return new ChunkInventoryPage(page, null);
    }

    /// <summary>Guards placing and removing a chunk file; striped by id (ids are uniformly random hex).</summary>
    private Lock CommitLock(string id) => _commitLocks[Convert.ToInt32(id[..2], 16) % _commitLocks.Length];

    private static IEnumerable<DirectoryInfo> SortedSubdirectories(string path) =>
        new DirectoryInfo(path).EnumerateDirectories()
            .Where(d => d.Name.Length == 2 && ChunkIds.IsValid(d.Name.PadRight(ChunkIds.Length, '0')))
            .OrderBy(d => d.Name, StringComparer.Ordinal);

    private static bool IsInPlace(FileInfo file)
    {
        var name = file.Name;
        return ChunkIds.IsValid(name)
               && file.Directory is { } second && second.Name == name[2..4]
               && second.Parent is { } first && first.Name == name[..2];
    }

    private async Task<bool> DrainAsync(Stream body, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(MinBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await ReadBodyAsync(body, buffer, ct)) > 0)
            {
                total += read;
                if (total > MaxChunkBytes) return false;
            }
            return true;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static async ValueTask<int> ReadBodyAsync(Stream body, byte[] buffer, CancellationToken ct)
    {
        try
        {
            return await body.ReadAsync(buffer, ct);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            throw new ChunkBodyReadException(e);
        }
    }

    private static int BufferSize(long? declaredLength) =>
        (int)Math.Clamp(declaredLength ?? MaxBufferSize, MinBufferSize, MaxBufferSize);

    private static FileStream OpenTemp(string path) =>
        new(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
        });

    private void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning(e, "Could not delete temp file {Path}", path);
        }
    }
}
