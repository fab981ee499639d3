using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Paths;

namespace Dfs.Contracts.Clients;

/// <summary>HttpClient implementation of <see cref="IGatewayClient"/>; the HttpClient's BaseAddress is the gateway.</summary>
public sealed class GatewayClient(HttpClient http) : IGatewayClient
{
    public HttpClient Http => http;

    public async Task<PutFileResult> PutFileAsync(string path, Stream content, PutFileOptions? options = null, CancellationToken ct = default)
    {
        options ??= new PutFileOptions();
        var uri = $"{ApiRoutes.Files}/{Url(path)}?{ApiRoutes.ConflictQuery}={options.Conflict.ToString().ToLowerInvariant()}";
        if (options.ReplicationFactor is { } rf) uri += $"&{ApiRoutes.ReplicationQuery}={rf}";

        using var request = new HttpRequestMessage(HttpMethod.Put, uri) { Content = new StreamContent(content, 1 << 16) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (content.CanSeek) request.Content.Headers.ContentLength = content.Length - content.Position;
        if (options.Md5Hex is { } md5) request.Content.Headers.ContentMD5 = Convert.FromHexString(md5);
        if (options.Sha256Hex is { } sha) request.Headers.TryAddWithoutValidation(Digests.ReprDigestHeader, Digests.ReprDigest(sha));

        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<PutFileResult>(DfsJson.Options, ct))!;
    }

    public async Task<DfsDownload> GetFileAsync(string path, ByteRange? range = null, CancellationToken ct = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ApiRoutes.Files}/{Url(path)}");
        if (range is { } r) request.Headers.Range = new RangeHeaderValue(r.From, r.To);
        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        try
        {
            await DfsApiException.ThrowIfFailedAsync(response, ct);
            var stream = await response.Content.ReadAsStreamAsync(ct);
            return new DfsDownload(response, stream);
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    public Task<EntryDetails> StatAsync(string path, CancellationToken ct = default) =>
        GetJsonAsync<EntryDetails>($"{ApiRoutes.Stat}/{Url(path)}", ct);

    public Task<ListingPage> ListAsync(string path, string? cursor = null, int? limit = null, CancellationToken ct = default)
    {
        var query = new List<string>();
        if (cursor is not null) query.Add($"cursor={Uri.EscapeDataString(cursor)}");
        if (limit is not null) query.Add($"limit={limit}");
        var uri = $"{ApiRoutes.List}/{Url(path)}" + (query.Count > 0 ? "?" + string.Join('&', query) : "");
        return GetJsonAsync<ListingPage>(uri, ct);
    }

    public async IAsyncEnumerable<EntryInfo> ListAllAsync(string path, [EnumeratorCancellation] CancellationToken ct = default)
    {
        string? cursor = null;
        do
        {
            var page = await ListAsync(path, cursor, null, ct);
            foreach (var entry in page.Entries) yield return entry;
            cursor = page.NextCursor;
        } while (cursor is not null);
    }

    public async Task<EntryInfo> MkdirAsync(string path, bool parents, CancellationToken ct = default)
    {
        using var response = await http.PutAsync($"{ApiRoutes.Dirs}/{Url(path)}?parents={(parents ? "true" : "false")}", null, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<EntryInfo>(DfsJson.Options, ct))!;
    }

    public async Task<EntryInfo> MoveAsync(string from, string to, CancellationToken ct = default)
    {
        using var response = await http.PostAsJsonAsync(ApiRoutes.Move, new MoveRequest(from, to), DfsJson.Options, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<EntryInfo>(DfsJson.Options, ct))!;
    }

    public async Task DeleteAsync(string path, bool recursive, CancellationToken ct = default)
    {
        using var response = await http.DeleteAsync($"{ApiRoutes.Entries}/{Url(path)}?recursive={(recursive ? "true" : "false")}", ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
    }

    public async Task<IReadOnlyList<NodeInfo>> GetNodesAsync(CancellationToken ct = default) =>
        await GetJsonAsync<List<NodeInfo>>(ApiRoutes.Nodes, ct);

    public Task<ClusterSummary> GetClusterAsync(CancellationToken ct = default) =>
        GetJsonAsync<ClusterSummary>(ApiRoutes.Cluster, ct);

    public async Task<NodeDrainStatus> DrainNodeAsync(string node, CancellationToken ct = default)
    {
        using var response = await http.PostAsync(ApiRoutes.NodeDrain(node), null, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<NodeDrainStatus>(DfsJson.Options, ct))!;
    }

    public Task<NodeDrainStatus> GetDrainStatusAsync(string node, CancellationToken ct = default) =>
        GetJsonAsync<NodeDrainStatus>(ApiRoutes.NodeDrain(node), ct);

    public async Task<NodeDrainStatus> CancelDrainAsync(string node, CancellationToken ct = default)
    {
        using var response = await http.DeleteAsync(ApiRoutes.NodeDrain(node), ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<NodeDrainStatus>(DfsJson.Options, ct))!;
    }

    public async Task RemoveNodeAsync(string node, bool force = false, CancellationToken ct = default)
    {
        using var response = await http.DeleteAsync($"{ApiRoutes.Node(node)}?{ApiRoutes.ForceQuery}={(force ? "true" : "false")}", ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
    }

    public Task<TokenCreated> CreateTokenAsync(string? name = null, int? ttlHours = null, CancellationToken ct = default) =>
        SendJsonAsync<TokenCreated>(HttpMethod.Post, ApiRoutes.AuthTokens, new CreateTokenRequest(name, ttlHours), ct);

    public async Task<IReadOnlyList<TokenInfo>> ListTokensAsync(CancellationToken ct = default) =>
        await GetJsonAsync<List<TokenInfo>>(ApiRoutes.AuthTokens, ct);

    public Task RevokeCurrentTokenAsync(CancellationToken ct = default) => SendAsync(HttpMethod.Delete, ApiRoutes.AuthTokensCurrent, ct);

    public Task RevokeTokenAsync(Guid id, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, ApiRoutes.AuthToken(id), ct);

    public Task<WhoAmI> WhoAmIAsync(CancellationToken ct = default) => GetJsonAsync<WhoAmI>(ApiRoutes.WhoAmI, ct);

    public async Task ChangePasswordAsync(string currentPassword, string newPassword, CancellationToken ct = default)
    {
        using var response = await http.PostAsJsonAsync(ApiRoutes.Password, new ChangePasswordRequest(currentPassword, newPassword), DfsJson.Options, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
    }

    public async Task<IReadOnlyList<UserInfo>> ListUsersAsync(CancellationToken ct = default) =>
        await GetJsonAsync<List<UserInfo>>(ApiRoutes.Users, ct);

    public Task<UserCreated> CreateUserAsync(CreateUserRequest request, CancellationToken ct = default) =>
        SendJsonAsync<UserCreated>(HttpMethod.Post, ApiRoutes.Users, request, ct);

    public Task<UserInfo> UpdateUserAsync(string name, UpdateUserRequest request, CancellationToken ct = default) =>
        SendJsonAsync<UserInfo>(HttpMethod.Patch, ApiRoutes.User(name), request, ct);

    public Task DeleteUserAsync(string name, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, ApiRoutes.User(name), ct);

    public Task<ShareList> ListSharesAsync(bool all = false, CancellationToken ct = default) =>
        GetJsonAsync<ShareList>(all ? $"{ApiRoutes.Shares}?all=true" : ApiRoutes.Shares, ct);

    public Task<ShareInfo> CreateShareAsync(string path, string user, string access, CancellationToken ct = default) =>
        SendJsonAsync<ShareInfo>(HttpMethod.Post, ApiRoutes.Shares, new CreateShareRequest(path, user, access), ct);

    public Task DeleteShareAsync(Guid id, CancellationToken ct = default) => SendAsync(HttpMethod.Delete, ApiRoutes.Share(id), ct);

    private async Task<T> SendJsonAsync<T>(HttpMethod method, string uri, object body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, uri) { Content = JsonContent.Create(body, body.GetType(), options: DfsJson.Options) };
        using var response = await http.SendAsync(request, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<T>(DfsJson.Options, ct))!;
    }

    private async Task SendAsync(HttpMethod method, string uri, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, uri);
        using var response = await http.SendAsync(request, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
    }

    private async Task<T> GetJsonAsync<T>(string uri, CancellationToken ct)
    {
        using var response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<T>(DfsJson.Options, ct))!;
    }

    /// <summary>Client paths are sent as given (normalized when valid) so that the server, not the client, judges bad paths.</summary>
    private static string Url(string path) =>
        DfsPath.TryNormalize(path, out var normalized, out _)
            ? DfsPath.ToUrlPath(normalized)
            : string.Join('/', path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Uri.EscapeDataString));
}
