using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Testing;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Clients;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>
/// A small real cluster (embedded profile: gateway + 2 nodes, real processes) with its dashboard on a free
/// port, and HTTP clients for the dashboard: one with the Bearer token, others as a browser would be.
/// </summary>
public sealed class DashboardCluster : IAsyncDisposable
{
    private DashboardCluster(DfsApplication app)
    {
        App = app;
        Url = app.DashboardUrl ?? throw new InvalidOperationException("The dashboard is not running.");
        Token = app.DashboardToken!;
        Api = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(90) };
        Api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
    }

    public DfsApplication App { get; }

    public Uri Url { get; }

    public string Token { get; }

    /// <summary>Sends the Bearer token, as the `dfs` CLI does.</summary>
    public HttpClient Api { get; }

    public static async Task<DashboardCluster> StartAsync(CancellationToken ct, Action<DfsAppHostOptions>? configure = null)
    {
        var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Embedded;
            o.Nodes = 2;
            o.ReplicationFactor = 2;
            o.HeartbeatIntervalMs = 500;
            o.NodeDeadAfterMs = 8000;
            o.DashboardPort = 0;
            configure?.Invoke(o);
        }, TestLogging.Factory()).Build();
        try
        {
            await app.StartAsync(ct);
            return new DashboardCluster(app);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>No token; redirects are not followed so tests see them. With a cookie jar when <paramref name="cookies"/> is given.</summary>
    public HttpClient Anonymous(CookieContainer? cookies = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = cookies is not null, CookieContainer = cookies ?? new CookieContainer() })
        {
            BaseAddress = Url,
        };

    public async Task<List<ResourceJson>> ResourcesAsync(CancellationToken ct) =>
        (await Api.GetFromJsonAsync<List<ResourceJson>>("/api/resources", DfsJson.Options, ct))!;

    public async Task<ResourceJson> ResourceAsync(string name, CancellationToken ct) =>
        (await ResourcesAsync(ct)).Single(r => r.Name == name);

    public async ValueTask DisposeAsync()
    {
        Api.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>GET /api/resources items as the wire carries them (the CLI's view, independent of the server's types).</summary>
public sealed record ResourceJson(
    string Name,
    string Kind,
    string State,
    int? Pid,
    string? Url,
    DateTimeOffset? StartedAt,
    long? UptimeSeconds,
    int Restarts,
    int? ExitCode,
    string? Health);

public sealed record LogLineJson(long Seq, string Text);

public sealed record LogPageJson(List<LogLineJson> Lines, long Last);

public sealed record ProblemJson(string? Type, string? Title, int? Status, string? Detail);
