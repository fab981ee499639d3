using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Internal;
using Dfs.Contracts.Security;
using Dfs.Gateway.Tests.Api;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Tests.Security;

/// <summary>The gateway's /internal API answers only requests signed with the cluster's secret.</summary>
public sealed class InternalApiTrustTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly GatewayFactory _factory = new();
    private HttpClient _admin = null!;
    private HttpClient _cluster = null!;

    public ValueTask InitializeAsync()
    {
        _factory.StartServer();
        _admin = _factory.CreateClient();
        _cluster = _factory.CreateClusterClient();
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        _admin.Dispose();
        _cluster.Dispose();
        await _factory.DisposeAsync();
    }

    private static NodeRegistration Registration(string name = "n1") =>
        new(Guid.NewGuid(), name, "http://127.0.0.1:1", new NodeUsage(1 << 30, 1 << 30, 0, 0));

    /// <summary>A request with the signature header the test chooses (null: none), from a client that is the admin user.</summary>
    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string target, string? signature, object? body = null)
    {
        var request = new HttpRequestMessage(method, target) { Content = body is null ? null : JsonContent.Create(body, options: DfsJson.Options) };
        if (signature is not null) request.Headers.TryAddWithoutValidation(ClusterSignature.HeaderName, signature);
        return _admin.SendAsync(request, Ct);
    }

    private static async Task AssertUnauthorizedAsync(HttpResponseMessage response, string detail)
    {
        using (response)
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
            Assert.Equal(401, problem!.Status);
            Assert.Contains(detail, problem.Detail);
        }
    }

    private async Task<IReadOnlyList<NodeInfo>> NodesAsync() => await DfsRefit.Gateway(_admin).GetNodesAsync(Ct);

    [Fact]
    public async Task A_node_registration_without_a_signature_is_401_and_registers_nothing_even_for_an_admin()
    {
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/internal/nodes/register", null, Registration()), ClusterSignature.HeaderName);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, $"/internal/nodes/{Guid.NewGuid()}/heartbeat", null, new NodeHeartbeat(new NodeUsage(1, 1, 0, 0))),
            ClusterSignature.HeaderName);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/internal/replicas", null, new ReplicaReport(new string('a', 64), Guid.NewGuid())),
            ClusterSignature.HeaderName);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, "/internal/replication/work?limit=5", null), ClusterSignature.HeaderName);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Get, "/internal/nodes", null), ClusterSignature.HeaderName);

        Assert.Empty(await NodesAsync());
    }

    [Fact]
    public async Task Spellings_of_the_internal_prefix_that_route_to_it_are_checked_too()
    {
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/INTERNAL/nodes/register", null, Registration()), ClusterSignature.HeaderName);
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/%69nternal/nodes/register", null, Registration()), ClusterSignature.HeaderName);
        Assert.Empty(await NodesAsync());
    }

    [Fact]
    public async Task Wrong_secret_stale_time_and_a_signature_for_another_target_are_401()
    {
        var now = DateTimeOffset.UtcNow;
        var wrong = new ClusterSignature("another-clusters-secret-0123456789").Sign("POST", "/internal/nodes/register", now);
        var ours = new ClusterSignature(GatewayFactory.ClusterSecret);

        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/internal/nodes/register", wrong, Registration()), "not valid");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/internal/nodes/register",
            ours.Sign("POST", "/internal/nodes/register", now.AddMinutes(-2)), Registration()), "60 s");
        await AssertUnauthorizedAsync(await SendAsync(HttpMethod.Post, "/internal/nodes/register",
            ours.Sign("POST", "/internal/replicas", now), Registration()), "not valid");
        Assert.Empty(await NodesAsync());
    }

    [Fact]
    public async Task Signed_requests_register_heartbeat_and_list_nodes()
    {
        var registration = Registration("signed");

        using var registered = await _cluster.PostAsJsonAsync("/internal/nodes/register", registration, DfsJson.Options, Ct);
        using var heartbeat = await _cluster.PostAsJsonAsync($"/internal/nodes/{registration.NodeId}/heartbeat", new NodeHeartbeat(registration.Usage), DfsJson.Options, Ct);
        var listed = await DfsRefit.GatewayInternal(_cluster).GetNodesAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, heartbeat.StatusCode);
        Assert.Equal(["signed"], listed.Select(n => n.Name));
        Assert.Equal(listed, await NodesAsync());
    }

    [Fact]
    public async Task The_public_api_and_health_do_not_need_the_signature()
    {
        using var anonymous = new HttpClient { BaseAddress = _admin.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/health", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/alive", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("/api/nodes", Ct)).StatusCode);
    }

    [Fact]
    public async Task The_gateway_refuses_to_start_without_a_cluster_secret()
    {
        await using var factory = new GatewayFactory().With("Dfs:Cluster:Secret", null);
        var error = Assert.ThrowsAny<Exception>(() => factory.StartServer());
        Assert.Contains("Dfs:Cluster:Secret is not set", Flatten(error));
    }

    private static string Flatten(Exception e) => e is AggregateException a ? string.Join(" | ", a.InnerExceptions.Select(Flatten)) : e.ToString();
}

/// <summary>Without configured urls the gateway listens on 127.0.0.1:5000, never on every interface.</summary>
public sealed class LoopbackDefaultTests
{
    [Fact]
    public async Task Without_urls_the_gateway_listens_on_127_0_0_1_port_5000_only()
    {
        if (!PortIsFree(5000)) Assert.Skip("port 5000 is in use on this machine");
        await using var factory = new UnconfiguredGateway();
        factory.StartServer();

        var addresses = factory.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses;
        Assert.Equal(["http://127.0.0.1:5000"], addresses);
        using var http = new HttpClient { BaseAddress = new Uri("http://127.0.0.1:5000") };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/alive", TestContext.Current.CancellationToken)).StatusCode);
    }

    [Fact]
    public void Configured_addresses_are_left_alone()
    {
        static bool Configured(params (string Key, string Value)[] settings) =>
            ServiceDefaults.ClusterTrustExtensions.HasConfiguredAddresses(new ConfigurationBuilder()
                .AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

        Assert.False(Configured());
        Assert.True(Configured(("urls", "http://0.0.0.0:8080")));
        Assert.True(Configured(("http_ports", "8080")));
        Assert.True(Configured(("https_ports", "8443")));
        Assert.True(Configured(("Kestrel:Endpoints:Https:Url", "https://127.0.0.1:8443")));
    }

    private static bool PortIsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The gateway as started by hand: no urls anywhere (only what it needs to run at all).</summary>
    private sealed class UnconfiguredGateway : WebApplicationFactory<Program>
    {
        private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-gw-loopback-");

        public UnconfiguredGateway() => UseKestrel();

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseSetting("ConnectionStrings:metadata", $"Data Source={Path.Combine(_folder.FullName, "dfs.db")}");
            builder.UseSetting("Dfs:Cluster:Secret", GatewayFactory.ClusterSecret);
            builder.UseSetting("Dfs:Gateway:Auth:Pbkdf2Iterations", "10000");
            builder.UseSetting("Dfs:Gateway:Auth:AdminPassword", GatewayFactory.AdminPassword);
            builder.UseSetting("Logging:LogLevel:Default", "Warning");
        }

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            _folder.Delete(recursive: true);
        }
    }
}
