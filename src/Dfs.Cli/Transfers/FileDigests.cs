using System.Buffers;
using System.Security.Cryptography;

namespace Dfs.Cli.Transfers;

internal sealed record FileDigests(long Length, string Md5Hex, string Sha256Hex)
{
    public const int BufferSize = 1 << 20;

    /// <summary>One streaming pass computing both digests, so the upload can ask the gateway to verify them end to end.</summary>
    public static async Task<FileDigests> ComputeAsync(string path, ITransferTask progress, CancellationToken ct)
    {
        using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
        using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            await using var file = OpenSequential(path);
            long length = 0;
            int read;
            while ((read = await file.ReadAsync(buffer.AsMemory(0, BufferSize), ct)) > 0)
            {
                md5.AppendData(buffer, 0, read);
                sha256.AppendData(buffer, 0, read);
                length += read;
                progress.Advance(read);
            }
            progress.Complete();
            return new FileDigests(length, Convert.ToHexStringLower(md5.GetHashAndReset()), Convert.ToHexStringLower(sha256.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static FileStream OpenSequential(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.Open,
        Access = FileAccess.Read,
        Share = FileShare.Read,
        BufferSize = 0,
        Options = FileOptions.Asynchronous | FileOptions.SequentialScan,
    });
}
