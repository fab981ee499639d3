using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;
using Dfs.Testing;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>
/// The built AppHost run the way a developer runs it, with the real Aspire dashboard on a free port and a known key for
/// its telemetry API (Dfs__AppHost__DashboardApiKey): local profile, three nodes. Shared by the dashboard's tests, which
/// only read from it and add files.
/// </summary>
public sealed partial class DashboardExeFixture : IAsyncLifetime
{
    public const string AdminPassword = "dashboard-test-admin-pw";
    public static readonly string[] Nodes = ["node-1", "node-2", "node-3"];

    /// <summary>Every resource the run starts, as the dashboard names them.</summary>
    public static readonly string[] Resources = ["metadata", "messaging-epmd", "messaging", "cache", "gateway", .. Nodes, "replicator"];

    private AppHostExe? _exe;

    public string StateDirectory { get; } = DfsTestCluster.NewStateDirectory();

    public string ApiKey { get; } = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));

    public AppHostExe Exe => _exe ?? throw new InvalidOperationException("The AppHost did not start.");

    /// <summary>What Aspire prints: http://127.0.0.1:PORT/login?t=TOKEN.</summary>
    public Uri LoginUrl { get; private set; } = null!;

    public Uri DashboardUrl => new(LoginUrl.GetLeftPart(UriPartial.Authority));

    public Uri GatewayUrl { get; private set; } = null!;

    [GeneratedRegex(@"Login to the dashboard at (http://127\.0\.0\.1:\d+/login\?t=[0-9a-f]+)")]
    private static partial Regex LoginLine();

    [GeneratedRegex(@"Dfs gateway:\s+(http://127\.0\.0\.1:\d+)")]
    private static partial Regex GatewayLine();

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _exe = AppHostExe.Start(
            ["--state-dir", StateDirectory, "--profile", "local", "--nodes", "3", "--spare-nodes", "0", "--replication", "2", "--chunk-size", "1M",
                "--heartbeat-ms", "500", "--node-dead-after-ms", "5000", "--dashboard-port", "0", "--Parameters:admin-password=" + AdminPassword],
            new Dictionary<string, string?> { ["Dfs__AppHost__DashboardApiKey"] = ApiKey });
        LoginUrl = new Uri((await _exe.WaitForOutputAsync(LoginLine(), TimeSpan.FromMinutes(2), ct)).Groups[1].Value);
        GatewayUrl = new Uri((await _exe.WaitForOutputAsync(GatewayLine(), TimeSpan.FromMinutes(4), ct)).Groups[1].Value);
        await Procs.EventuallyAsync(() => ClusterFile.TryRead(StateDirectory)?.Resources is { } r && r.Count == Resources.Length && r.All(x => ResourceStates.IsRunning(x.State)),
            TimeSpan.FromMinutes(3), "every resource running in cluster.json", ct);
        // Every node registered and live, so that a file can go anywhere.
        using var gateway = CreateGatewayClient();
        await Procs.EventuallyAsync(() =>
        {
            var nodes = gateway.GetFromJsonAsync<List<NodeInfo>>(ApiRoutes.Nodes, DfsJson.Options, ct).GetAwaiter().GetResult()!;
            return nodes.Count(n => n.State == NodeStates.Live) == Nodes.Length;
        }, TimeSpan.FromMinutes(1), "three live nodes", ct);
    }

    /// <summary>The gateway's API as its first admin. Dispose it.</summary>
    public HttpClient CreateGatewayClient()
    {
        var http = new HttpClient { BaseAddress = GatewayUrl, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic(Dfs.AppHost.Cluster.AdminPassword.User, AdminPassword);
        return http;
    }

    /// <summary>The dashboard's telemetry API with the run's key. Dispose it.</summary>
    public HttpClient CreateTelemetryClient()
    {
        var http = new HttpClient { BaseAddress = DashboardUrl, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("x-api-key", ApiKey);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        if (_exe is not null) await _exe.DisposeAsync();
        try { Directory.Delete(StateDirectory, recursive: true); }
        catch (IOException) { }
    }
}
