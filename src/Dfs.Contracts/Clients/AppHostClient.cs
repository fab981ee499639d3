using System.Net.Http.Json;
using Dfs.Contracts.AppHost;

namespace Dfs.Contracts.Clients;

/// <summary>The AppHost's API (resources, adding and removing storage nodes), as `dfs cluster` uses it.</summary>
public interface IAppHostClient
{
    Task<IReadOnlyList<AppHostResource>> GetResourcesAsync(CancellationToken ct = default);

    /// <summary>action: start, stop or restart; returns the resource after the action completed.</summary>
    Task<AppHostResource> ControlAsync(string resource, string action, CancellationToken ct = default);

    Task<AddedNode> AddNodeAsync(CancellationToken ct = default);

    Task<NodeRemovalInfo> RemoveNodeAsync(string name, CancellationToken ct = default);

    Task<NodeRemovalInfo> GetNodeRemovalAsync(string name, CancellationToken ct = default);
}

/// <summary>Over an HttpClient whose BaseAddress is the dashboard and which sends the token as a Bearer header.</summary>
public sealed class AppHostClient(HttpClient http) : IAppHostClient
{
    public async Task<IReadOnlyList<AppHostResource>> GetResourcesAsync(CancellationToken ct = default) =>
        await SendAsync<List<AppHostResource>>(HttpMethod.Get, AppHostRoutes.Resources, ct);

    public Task<AppHostResource> ControlAsync(string resource, string action, CancellationToken ct = default) =>
        SendAsync<AppHostResource>(HttpMethod.Post, AppHostRoutes.ResourceAction(resource, action), ct);

    public Task<AddedNode> AddNodeAsync(CancellationToken ct = default) => SendAsync<AddedNode>(HttpMethod.Post, AppHostRoutes.Nodes, ct);

    public Task<NodeRemovalInfo> RemoveNodeAsync(string name, CancellationToken ct = default) =>
        SendAsync<NodeRemovalInfo>(HttpMethod.Delete, AppHostRoutes.Node(name), ct);

    public Task<NodeRemovalInfo> GetNodeRemovalAsync(string name, CancellationToken ct = default) =>
        SendAsync<NodeRemovalInfo>(HttpMethod.Get, AppHostRoutes.NodeRemoval(name), ct);

    private async Task<T> SendAsync<T>(HttpMethod method, string route, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, route.TrimStart('/'));
        using var response = await http.SendAsync(request, ct);
        await DfsApiException.ThrowIfFailedAsync(response, ct);
        return (await response.Content.ReadFromJsonAsync<T>(DfsJson.Options, ct))
            ?? throw new DfsApiException(response.StatusCode, null, $"{route} answered without a body.");
    }
}
