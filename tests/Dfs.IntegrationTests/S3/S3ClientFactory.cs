using System.Net.Http.Json;
using Amazon.Runtime;
using Amazon.S3;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests.S3;

/// <summary>
/// AWS SDK clients for the cluster's S3 endpoint, each with an access key created through the gateway's API. The keys are
/// revoked at the end: a user may hold only ten, and the tests of a collection share one cluster and its admin.
/// </summary>
internal sealed class S3ClientFactory(ClusterFixture cluster) : IAsyncDisposable
{
    private readonly List<IDisposable> _owned = [];
    private readonly List<string> _keys = [];

    public Uri Endpoint => cluster.App.Endpoint(Dfs.AppHost.Cluster.DfsCluster.GatewayName, "s3");

    /// <summary>A new key for <paramref name="user"/> (null: the admin), created by the admin.</summary>
    public async Task<AccessKeyCreated> CreateKeyAsync(string? user, CancellationToken ct)
    {
        var key = await cluster.Gateway.CreateAccessKeyAsync(new CreateAccessKeyRequest("s3 tests", user), ct);
        _keys.Add(key.Id);
        return key;
    }

    public async Task<AmazonS3Client> ClientAsync(string? user, CancellationToken ct)
    {
        var key = await CreateKeyAsync(user, ct);
        return Client(key.Id, key.Secret);
    }

    public AmazonS3Client Client(string accessKeyId, string secret)
    {
        var client = new AmazonS3Client(new BasicAWSCredentials(accessKeyId, secret), new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
        });
        _owned.Add(client);
        return client;
    }

    /// <summary>
    /// A client that addresses buckets virtual-host style (BUCKET.s3.localhost:PORT, the domain the fixture gives the
    /// gateway); whatever the name, it connects to the gateway's S3 port on loopback, as DNS for *.localhost would.
    /// </summary>
    public async Task<AmazonS3Client> VirtualHostClientAsync(CancellationToken ct)
    {
        var key = await CreateKeyAsync(null, ct);
        var client = new AmazonS3Client(new BasicAWSCredentials(key.Id, key.Secret), new AmazonS3Config
        {
            ServiceURL = $"http://{ClusterFixture.S3Domain}:{Endpoint.Port}",
            ForcePathStyle = false,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            HttpClientFactory = new LoopbackHttpClientFactory(Endpoint.Port),
        });
        _owned.Add(client);
        return client;
    }

    private sealed class LoopbackHttpClientFactory(int port) : HttpClientFactory
    {
        public override HttpClient CreateHttpClient(IClientConfig clientConfig) => new(new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new System.Net.Sockets.Socket(System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp) { NoDelay = true };
                await socket.ConnectAsync(System.Net.IPAddress.Loopback, port, ct);
                return new System.Net.Sockets.NetworkStream(socket, ownsSocket: true);
            },
        });
    }

    /// <summary>A user with a password and an S3 client of their own.</summary>
    public async Task<AmazonS3Client> UserAsync(string name, CancellationToken ct)
    {
        await cluster.Gateway.CreateUserAsync(new CreateUserRequest(name, name + "-password-1"), ct);
        return await ClientAsync(name, ct);
    }

    public HttpClient Raw()
    {
        var http = new HttpClient { BaseAddress = Endpoint };
        _owned.Add(http);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var owned in _owned) owned.Dispose();
        foreach (var key in _keys)
        {
            try
            {
                await cluster.Gateway.RevokeAccessKeyAsync(key, CancellationToken.None);
            }
            catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                // Revoked by the test itself, or its user deleted.
            }
        }
    }
}
