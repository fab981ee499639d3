using System.Net;
using Dfs.Cli.Remote;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.Cli.Transfers;

internal sealed record UploadRequest(string LocalPath, string RemotePath, ConflictPolicy Conflict, int? ReplicationFactor,
    Durability Durability = Durability.One);

/// <summary>
/// Uploads one local file: a first streaming pass computes MD5 and SHA-256, then the file is streamed to the
/// gateway with both digests so the gateway refuses anything that changed on the way (or on disk meanwhile).
/// </summary>
internal sealed class Uploader(IGatewayApi client, RetryPolicy retry, Action<Exception, int>? onRetry)
{
    public async Task<PutFileResult> UploadAsync(UploadRequest request, ITransferDisplay display, CancellationToken ct)
    {
        var name = Path.GetFileName(request.LocalPath);
        var size = new FileInfo(request.LocalPath).Length;
        var digests = await FileDigests.ComputeAsync(request.LocalPath, display.Begin($"hash {name}", size), ct);
        var options = new PutFileOptions(request.Conflict, digests.Md5Hex, digests.Sha256Hex, request.ReplicationFactor, request.Durability);
        var progress = display.Begin($"put  {name}", digests.Length);

        // A local file can be reopened, so the whole upload is retried. If an earlier attempt broke after the gateway
        // had committed, the retry meets 409 (conflict=fail): the upload still succeeded when the stored bytes are ours.
        var earlierAttemptFailed = false;
        var result = await retry.RunAsync(async attemptCt =>
        {
            progress.Restart();
            try
            {
                await using var file = new ProgressStream(FileDigests.OpenSequential(request.LocalPath), progress);
                return await client.PutFileAsync(request.RemotePath, file, options, attemptCt);
            }
            catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.Conflict && earlierAttemptFailed)
            {
                var existing = await client.StatAsync(request.RemotePath, attemptCt);
                if (!string.Equals(existing.Sha256, digests.Sha256Hex, StringComparison.OrdinalIgnoreCase)) throw;
                return new PutFileResult(existing.Path, existing.Size, existing.Md5 ?? digests.Md5Hex, digests.Sha256Hex,
                    existing.Version ?? 0, existing.Chunks.Count, existing.ChunkSize ?? 0, Renamed: false, existing.CreatedAt);
            }
            catch (Exception e) when (RetryPolicy.IsTransient(e, ct))
            {
                earlierAttemptFailed = true;
                throw;
            }
        }, bounded: false, onRetry, ct);
        progress.Complete();
        return result;
    }
}
