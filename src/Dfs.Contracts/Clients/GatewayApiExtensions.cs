using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Internal;

namespace Dfs.Contracts.Clients;

/// <summary>The gateway's calls in the forms callers want: a file up from a stream, a file down as a stream with its digests, every page of a listing.</summary>
public static class GatewayApiExtensions
{
    private const int StreamBufferBytes = 1 << 16;

    /// <summary>
    /// Streams <paramref name="content"/> to <paramref name="path"/> (never buffered whole: a seekable stream is sent with
    /// its length, another chunked), with the client's digests for the gateway to check end to end.
    /// </summary>
    public static Task<PutFileResult> PutFileAsync(this IGatewayApi api, string path, Stream content, PutFileOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PutFileOptions();
        var body = new StreamContent(content, StreamBufferBytes);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (content.CanSeek) body.Headers.ContentLength = content.Length - content.Position;
        if (options.Md5Hex is { } md5) body.Headers.ContentMD5 = Convert.FromHexString(md5);
        var digest = options.Sha256Hex is { } sha ? Digests.ReprDigest(sha) : null;
        var durability = options.Durability == Durability.One ? null : options.Durability.ToString().ToLowerInvariant();
        return api.PutFileAsync(path, body, options.Conflict.ToString().ToLowerInvariant(), options.ReplicationFactor, digest, durability, ct);
    }

    /// <summary>The file (or <paramref name="range"/> of it) as a stream read as it arrives; dispose the download.</summary>
    public static async Task<DfsDownload> GetFileAsync(this IGatewayApi api, string path, ByteRange? range = null, CancellationToken ct = default)
    {
        var response = await api.GetFileResponseAsync(path, range?.ToString(), ct);
        try
        {
            await DfsApiException.ThrowIfFailedAsync(response, ct);
            return new DfsDownload(response, await response.Content.ReadAsStreamAsync(ct));
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>Every entry of a folder, page after page.</summary>
    public static async IAsyncEnumerable<EntryInfo> ListAllAsync(this IGatewayApi api, string path, [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? cursor = null;
        do
        {
            var page = await api.ListAsync(path, cursor, null, ct);
            foreach (var entry in page.Entries) yield return entry;
            cursor = page.NextCursor;
        } while (cursor is not null);
    }

    public static Task<EntryInfo> MoveAsync(this IGatewayApi api, string from, string to, CancellationToken ct = default) =>
        api.MoveAsync(new MoveRequest(from, to), ct);

    public static Task<TokenCreated> CreateTokenAsync(this IGatewayApi api, string? name = null, int? ttlHours = null, CancellationToken ct = default) =>
        api.CreateTokenAsync(new CreateTokenRequest(name, ttlHours), ct);

    public static Task ChangePasswordAsync(this IGatewayApi api, string currentPassword, string newPassword, CancellationToken ct = default) =>
        api.ChangePasswordAsync(new ChangePasswordRequest(currentPassword, newPassword), ct);

    public static Task<ShareInfo> CreateShareAsync(this IGatewayApi api, string path, string user, string access, CancellationToken ct = default) =>
        api.CreateShareAsync(new CreateShareRequest(path, user, access), ct);

    /// <summary>A node's heartbeat and what the gateway answered: recorded, unknown node (register again) or removed node (stop).</summary>
    public static async Task<HeartbeatAnswer> HeartbeatAsync(this IGatewayInternalApi api, Guid nodeId, NodeHeartbeat heartbeat, CancellationToken ct = default)
    {
        using var response = await api.HeartbeatResponseAsync(nodeId, heartbeat, ct);
        return response.StatusCode switch
        {
            HttpStatusCode.NotFound => new HeartbeatAnswer(HeartbeatOutcome.Unknown, Reason(await DfsApiException.ReadProblemAsync(response, ct))),
            HttpStatusCode.Gone => new HeartbeatAnswer(HeartbeatOutcome.Removed, Reason(await DfsApiException.ReadProblemAsync(response, ct))),
            _ when response.IsSuccessStatusCode => new HeartbeatAnswer(HeartbeatOutcome.Accepted),
            _ => throw await DfsApiException.FromResponseAsync(response, ct),
        };
    }

    private static string? Reason(ApiProblem? problem) => problem?.Detail ?? problem?.Title;
}
