using System.Buffers;
using System.Security.Cryptography;
using Dfs.Cli.Remote;
using Dfs.Contracts.Clients;

namespace Dfs.Cli.Transfers;

internal sealed record DownloadResult(string RemotePath, string LocalPath, long Size, string Sha256Hex, string Md5Hex, bool Verified);

/// <summary>
/// Downloads to a hidden temp file next to the destination while hashing, checks the length and the digests the
/// gateway announced (Repr-Digest, ETag), and only then renames it into place: the destination is either the
/// complete verified file or untouched, and no partial file is ever left behind.
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
            // The remote first: for a file that does not exist, "not found" is the answer that helps, whatever is on
            // the local side. Opening the download is that lookup, so it costs no extra request.
            await using var download = await client.GetFileAsync(remotePath, null, attemptCt);
            if (!Directory.Exists(folder)) throw new CliException(ExitCodes.NotFound, $"local folder not found: {folder}");
            if (!overwrite && Path.Exists(destination))
                throw new CliException(ExitCodes.Conflict, $"{destination} already exists (use --force to overwrite)");
            var temp = Path.Combine(folder, $".{Path.GetFileName(destination)}{PartialMarker}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}");
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
