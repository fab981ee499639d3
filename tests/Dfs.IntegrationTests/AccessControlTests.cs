using System.Net;
using System.Net.Http.Headers;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>Users, tokens, shares and quotas against the real cluster: the gateway as a process, PostgreSQL, storage nodes.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AccessControlTests(ClusterFixture cluster) : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly List<HttpClient> _clients = [];

    public void Dispose()
    {
        foreach (var client in _clients) client.Dispose();
    }

    /// <summary>A client for the gateway with other credentials than its admin's.</summary>
    private IGatewayApi As(AuthenticationHeaderValue credential)
    {
        var http = cluster.App.CreateGatewayClient();
        http.DefaultRequestHeaders.Authorization = credential;
        _clients.Add(http);
        return DfsRefit.Gateway(http);
    }

    private static async Task ExpectAsync(HttpStatusCode status, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<DfsApiException>(action);
        Assert.Equal(status, e.StatusCode);
    }

    private static async Task ReadAsync(IGatewayApi client, string path)
    {
        await using var download = await client.GetFileAsync(path, ct: Ct);
        await download.Content.CopyToAsync(Stream.Null, Ct);
    }

    [Fact]
    public async Task Users_read_and_write_only_their_own_and_what_was_shared_with_them()
    {
        var admin = cluster.Gateway;
        await admin.CreateUserAsync(new CreateUserRequest("alice", "alice-password-1"), Ct);
        await admin.CreateUserAsync(new CreateUserRequest("bob", "bob-password-1"), Ct);
        var alice = As(GatewayCredentials.Basic("alice", "alice-password-1"));
        var bobBasic = As(GatewayCredentials.Basic("bob", "bob-password-1"));
        var bobToken = await bobBasic.CreateTokenAsync("integration", ct: Ct);
        var bobBearer = As(GatewayCredentials.Bearer(bobToken.Token));

        // Alice writes in her home (several chunks, stored on the nodes).
        var data = TestData.Random(3 * ClusterFixture.ChunkSize + 12345, 51);
        await alice.PutFileAsync("/home/alice/report.bin", new MemoryStream(data), ct: Ct);
        Assert.Equal(TestData.Sha256(data), await alice.DownloadSha256Async("/home/alice/report.bin", Ct));

        // Bob, with Basic and with his token: 403 on her file, the same as on a path that does not exist.
        foreach (var bob in new[] { bobBasic, bobBearer })
        {
            Assert.Equal("bob", (await bob.WhoAmIAsync(Ct)).Name);
            await ExpectAsync(HttpStatusCode.Forbidden, () => ReadAsync(bob, "/home/alice/report.bin"));
            await ExpectAsync(HttpStatusCode.Forbidden, () => ReadAsync(bob, "/home/alice/missing.bin"));
            await ExpectAsync(HttpStatusCode.Forbidden, () => bob.StatAsync("/home/alice/report.bin", Ct));
            await ExpectAsync(HttpStatusCode.Forbidden, () => bob.ListAsync("/home/alice", ct: Ct));
        }

        // Shared for reading: Bob reads, but cannot write, overwrite or delete.
        await alice.CreateShareAsync("/home/alice", "bob", ShareAccess.Read, Ct);
        foreach (var bob in new[] { bobBasic, bobBearer })
        {
            Assert.Equal(TestData.Sha256(data), await bob.DownloadSha256Async("/home/alice/report.bin", Ct));
            Assert.Equal(["report.bin"], (await bob.ListAsync("/home/alice", ct: Ct)).Entries.Select(e => e.Name));
            await ExpectAsync(HttpStatusCode.Forbidden, () => bob.PutFileAsync("/home/alice/from-bob.bin", new MemoryStream([1, 2, 3]), ct: Ct));
            await ExpectAsync(HttpStatusCode.Forbidden, () =>
                bob.PutFileAsync("/home/alice/report.bin", new MemoryStream([1, 2, 3]), new PutFileOptions(ConflictPolicy.Overwrite), Ct));
            await ExpectAsync(HttpStatusCode.Forbidden, () => bob.DeleteAsync("/home/alice/report.bin", recursive: false, Ct));
        }
        Assert.Equal(TestData.Sha256(data), await alice.DownloadSha256Async("/home/alice/report.bin", Ct));
        Assert.Equal(["report.bin"], (await alice.ListAsync("/home/alice", ct: Ct)).Entries.Select(e => e.Name));

        // A revoked token is 401 at once; Bob's password still works.
        await bobBearer.RevokeCurrentTokenAsync(Ct);
        await ExpectAsync(HttpStatusCode.Unauthorized, () => ReadAsync(bobBearer, "/home/alice/report.bin"));
        await ExpectAsync(HttpStatusCode.Unauthorized, () => bobBearer.WhoAmIAsync(Ct));
        Assert.Equal(TestData.Sha256(data), await bobBasic.DownloadSha256Async("/home/alice/report.bin", Ct));
    }

    [Fact]
    public async Task A_quota_stops_uploads_of_known_and_unknown_length_and_commits_nothing()
    {
        var admin = cluster.Gateway;
        await admin.CreateUserAsync(new CreateUserRequest("carol", "carol-password-1", QuotaBytes: 2 * ClusterFixture.ChunkSize), Ct);
        var carol = As(GatewayCredentials.Basic("carol", "carol-password-1"));
        var first = TestData.Random(ClusterFixture.ChunkSize + 100, 61);
        await carol.PutFileAsync("/home/carol/first.bin", new MemoryStream(first), ct: Ct);
        Assert.Equal(first.Length, (await carol.WhoAmIAsync(Ct)).UsedBytes);

        // Known length: refused before the body is stored.
        var known = await Assert.ThrowsAsync<DfsApiException>(() =>
            carol.PutFileAsync("/home/carol/known.bin", new MemoryStream(TestData.Random(ClusterFixture.ChunkSize, 62)), ct: Ct));
        Assert.True(known.IsQuotaExceeded, known.Message);
        Assert.False(known.IsTransient);

        // Unknown length (a stream that cannot seek goes chunked): stored, then refused at the commit.
        var streamed = await Assert.ThrowsAsync<DfsApiException>(() =>
            carol.PutFileAsync("/home/carol/streamed.bin", new TestData.RandomStream(2 * ClusterFixture.ChunkSize + 5, 63), ct: Ct));
        Assert.True(streamed.IsQuotaExceeded, streamed.Message);
        Assert.Equal(["first.bin"], (await carol.ListAsync("/home/carol", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(first.Length, (await carol.WhoAmIAsync(Ct)).UsedBytes);

        // What fits is stored.
        await carol.PutFileAsync("/home/carol/small.bin", new TestData.RandomStream(1000, 64), ct: Ct);
        Assert.Equal(first.Length + 1000, (await carol.WhoAmIAsync(Ct)).UsedBytes);
    }
}
