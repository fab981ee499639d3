using System.Buffers;
using System.Security.Cryptography;
using Dfs.Cli.Remote;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Cli.Transfers;

/// <param name="ChunksFromNodes">Chunks read straight from the nodes (the rest through the gateway); null for a thin GET.</param>
internal sealed record DownloadResult(string RemotePath, string LocalPath, long Size, string Sha256Hex, string Md5Hex, bool Verified,
    int? ChunksFromNodes = null, int Chunks = 0);

/// <summary>
/// Downloads to a hidden temp file next to the destination, checks the length and the digests the gateway announced,
/// and only then renames it into place: the destination is either the complete verified file or untouched, and no
/// partial file is ever left behind. The chunks are read straight from the nodes with the file's signed layout
/// (<see cref="DirectChunkReader"/>); a gateway that has no layout for the path (a missing file, or a gateway without
/// direct reads) is asked for the bytes themselves, streamed and hashed on the way (Repr-Digest, ETag).
/// </summary>
internal sealed class Downloader(IGatewayApi client, RetryPolicy retry, Action<Exception, int>? onRetry)
{
    public const string PartialMarker = ".dfs-partial-";
    private const int BufferSize = 1 << 20;

    public async Task<DownloadResult> DownloadAsync(string remotePath, string destination, bool overwrite, ITransferDisplay display, CancellationToken ct)
    {
        var folder = Path.GetDirectoryName(destination) ?? throw new CliException(ExitCodes.Usage, $"invalid destination '{destination}'");

        ITransferTask? progress = null;
        var result = await retry.RunAsync(async attemptCt =>
        {
            FileLayout? layout;
            try
            {
                layout = await client.GetLayoutAsync(remotePath, attemptCt);
            }
            catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // A missing file, or a gateway that hands out no layouts: the thin GET below gives the answer either way.
                layout = null;
            }
            if (layout is not null)
            {
                CheckLocal(folder, destination, overwrite);
                progress ??= display.Begin($"get  {Path.GetFileName(destination)}", layout.Size);
                progress.Restart();
                return await DirectAsync(remotePath, layout, folder, destination, overwrite, progress, attemptCt);
            }

            // The remote first: for a file that does not exist, "not found" is the answer that helps, whatever is on
            // the local side. Opening the download is that lookup, so it costs no extra request.
            await using var download = await client.GetFileAsync(remotePath, null, attemptCt);
            CheckLocal(folder, destination, overwrite);
            var temp = TempPath(folder, destination);
            try
            {
                progress ??= display.Begin($"get  {Path.GetFileName(destination)}", download.Length);
                progress.Restart();
                var (size, sha256, md5) = await CopyAsync(download, temp, progress, attemptCt);
                var verified = Verify(remotePath, download, size, sha256, md5);
                Commit(temp, destination, overwrite);
                return new DownloadResult(remotePath, destination, size, sha256, md5, verified);
            }
            finally
            {
                File.Delete(temp);
            }
        }, bounded: false, onRetry, ct);
        progress?.Complete();
        return result;
    }

    private async Task<DownloadResult> DirectAsync(string remotePath, FileLayout layout, string folder, string destination, bool overwrite,
        ITransferTask progress, CancellationToken ct)
    {
        var temp = TempPath(folder, destination);
        try
        {
            var reader = new DirectChunkReader(client);
            string sha256;
            long size;
            using (var file = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous, layout.Size))
            {
                sha256 = await reader.ReadAsync(layout, file, progress, ct);
                size = RandomAccess.GetLength(file);
                // Renamed into place next: its bytes durable first, so the rename never exposes a hole.
                using var flush = new FileStream(file, FileAccess.ReadWrite);
                flush.Flush(flushToDisk: true);
            }
            // Every chunk was checked against its id, and the whole file against the version's SHA-256: the same bytes, so
            // the version's MD5 (computed by the gateway from them) is the file's too.
            if (size != layout.Size)
                throw new TransferInterruptedException($"truncated download of {remotePath}: {size} of {layout.Size} bytes");
            if (!string.Equals(sha256, layout.Sha256, StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.Integrity, $"integrity check failed for {remotePath}: SHA-256 is {sha256}, the gateway announced {layout.Sha256}; nothing was saved");
            var md5 = layout.Md5;
            Commit(temp, destination, overwrite);
            return new DownloadResult(remotePath, destination, size, sha256, md5, Verified: true, reader.Counts.FromNodes, layout.Chunks.Count);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static void CheckLocal(string folder, string destination, bool overwrite)
    {
        if (!Directory.Exists(folder)) throw new CliException(ExitCodes.NotFound, $"local folder not found: {folder}");
        if (!overwrite && Path.Exists(destination))
            throw new CliException(ExitCodes.Conflict, $"{destination} already exists (use --force to overwrite)");
    }

    private static string TempPath(string folder, string destination) =>
        Path.Combine(folder, $".{Path.GetFileName(destination)}{PartialMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");

    private static async Task<(long Size, string Sha256, string Md5)> CopyAsync(DfsDownload download, string temp, ITransferTask progress, CancellationToken ct)
    {
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = new FileStream(temp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                BufferSize = 0,
                Options = FileOptions.Asynchronous,
            });
            long size = 0;
            while (true)
            {
                int read;
                try
                {
                    read = await download.Content.ReadAsync(buffer.AsMemory(0, BufferSize), ct);
                }
                catch (Exception e) when (e is IOException or HttpRequestException && !ct.IsCancellationRequested)
                {
                    throw new TransferInterruptedException($"download interrupted after {size} of {Expected(download)} bytes: {e.Message}", e);
                }
                if (read == 0) break;
                sha256.AppendData(buffer, 0, read);
                md5.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
                size += read;
                progress.Advance(read);
            }
            // The file is renamed into place next: make its bytes durable first so the rename never exposes a hole.
            file.Flush(flushToDisk: true);
            return (size, Convert.ToHexStringLower(sha256.GetHashAndReset()), Convert.ToHexStringLower(md5.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Checks what the gateway announced; true when at least one digest was there to check.</summary>
    private static bool Verify(string remotePath, DfsDownload download, long size, string sha256, string md5)
    {
        if (download.Length is { } length && size != length)
            throw new TransferInterruptedException($"truncated download of {remotePath}: received {size} of {length} bytes");

        var checkedAny = false;
        if (download.Sha256Hex is { } expectedSha)
        {
            if (!string.Equals(expectedSha, sha256, StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.Integrity, $"integrity check failed for {remotePath}: SHA-256 is {sha256}, the gateway announced {expectedSha}; nothing was saved");
            checkedAny = true;
        }
        if (download.Md5Hex is { Length: 32 } expectedMd5 && IsHex(expectedMd5))
        {
            if (!string.Equals(expectedMd5, md5, StringComparison.OrdinalIgnoreCase))
                throw new CliException(ExitCodes.Integrity, $"integrity check failed for {remotePath}: MD5 is {md5}, the ETag announced {expectedMd5}; nothing was saved");
            checkedAny = true;
        }
        return checkedAny;
    }

    private static void Commit(string temp, string destination, bool overwrite)
    {
        try
        {
            File.Move(temp, destination, overwrite);
        }
        catch (IOException) when (!overwrite && Path.Exists(destination))
        {
            throw new CliException(ExitCodes.Conflict, $"{destination} already exists (use --force to overwrite)");
        }
    }

    private static string Expected(DfsDownload download) => download.Length?.ToString() ?? "?";

    private static bool IsHex(string text) => text.All(Uri.IsHexDigit);
}
