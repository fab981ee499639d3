using System.Net;
using System.Net.Http.Headers;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Http;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.Extensions.DependencyInjection;
using static Dfs.Gateway.Tests.Auth.AuthKit;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>
/// Per-user quotas. No storage node runs here: a PUT that passes the quota ends in 507 "Storage unavailable",
/// one that does not in 507 "Quota exceeded"; usage comes from files committed by the real committer.
/// </summary>
public sealed class QuotaTests
{
    private const string StorageUnavailable = "Storage unavailable";

    private static async Task<ApiProblem> PutAsync(HttpClient http, string path, HttpContent content, string conflict = "fail")
    {
        using var response = await http.PutAsync($"/api/files/{path.TrimStart('/')}?conflict={conflict}", content, Ct);
        return await ProblemAsync(response, HttpStatusCode.InsufficientStorage);
    }

    private static ByteArrayContent Known(int length) => new(new byte[length]);

    /// <summary>A body without Content-Length (chunked): the quota can only be checked at the commit.</summary>
    private sealed class Streamed(int length) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => stream.WriteAsync(new byte[length]).AsTask();

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_put_over_the_owners_quota_is_507_and_commits_nothing(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        var alice = await CreateUserAsync(factory, "alice", quotaBytes: 1000);
        await CreateUserAsync(factory, "bob");
        await CommitAsync(factory, "/home/alice/a.bin", 900);
        Assert.Equal(new WhoAmI("alice", false, "/home/alice", 1000, 900), await alice.WhoAmIAsync(Ct));
        using var http = factory.CreateClient(GatewayCredentials.Basic("alice", PasswordOf("alice")));

        // Known length: refused before a byte is read.
        var over = await PutAsync(http, "/home/alice/b.bin", Known(101));
        Assert.Equal(DfsApiException.QuotaExceededTitle, over.Title);
        Assert.Contains("900", over.Detail);
        Assert.Contains("1000", over.Detail);
        Assert.Contains("101", over.Detail);
        // Up to the quota is fine (and then fails only for want of a node); so is an overwrite that frees its old size.
        Assert.Equal(StorageUnavailable, (await PutAsync(http, "/home/alice/b.bin", Known(100))).Title);
        Assert.Equal(StorageUnavailable, (await PutAsync(http, "/home/alice/a.bin", Known(1000), "overwrite")).Title);
        Assert.Equal(DfsApiException.QuotaExceededTitle, (await PutAsync(http, "/home/alice/a.bin", Known(1001), "overwrite")).Title);

        // A grantee's writes count against the owner, whatever the grantee's own quota.
        await alice.CreateShareAsync("/home/alice", "bob", ShareAccess.ReadWrite, Ct);
        using var bob = factory.CreateClient(GatewayCredentials.Basic("bob", PasswordOf("bob")));
        Assert.Equal(DfsApiException.QuotaExceededTitle, (await PutAsync(bob, "/home/alice/from-bob.bin", Known(200))).Title);
        Assert.Equal(StorageUnavailable, (await PutAsync(bob, "/home/bob/big.bin", Known(5000))).Title);
        // Admin-owned paths have no quota.
        using var admin = factory.CreateClient();
        Assert.Equal(StorageUnavailable, (await PutAsync(admin, "/shared/big.bin", Known(5000))).Title);

        // Streamed: checked at the commit. Over quota already (the quota was lowered), even an empty file is refused.
        await Admin(factory).UpdateUserAsync("alice", new UpdateUserRequest(QuotaBytes: 800), Ct);
        var streamed = await PutAsync(http, "/home/alice/empty.bin", new Streamed(0));
        Assert.Equal(DfsApiException.QuotaExceededTitle, streamed.Title);
        Assert.Equal(["a.bin"], (await alice.ListAsync("/home/alice", ct: Ct)).Entries.Select(e => e.Name));

        // Unlimited again: the same upload commits.
        await Admin(factory).UpdateUserAsync("alice", new UpdateUserRequest(ClearQuota: true), Ct);
        using (var ok = await http.PutAsync("/api/files/home/alice/empty.bin", new Streamed(0), Ct)) Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var users = await Admin(factory).ListUsersAsync(Ct);
        Assert.Contains(users, u => u is { Name: "alice", QuotaBytes: null, UsedBytes: 900 });
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task The_commit_checks_the_quota_in_its_transaction(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        await CreateUserAsync(factory, "alice", quotaBytes: 1000);
        await CommitAsync(factory, "/home/alice/a.bin", 600);

        var e = await Assert.ThrowsAsync<DfsProblemException>(() => CommitAsync(factory, "/home/alice/b.bin", 401));
        Assert.Equal(507, e.Status);
        Assert.Equal(DfsApiException.QuotaExceededTitle, e.Title);
        await CommitAsync(factory, "/home/alice/b.bin", 400);
        Assert.Equal(1000, (await Admin(factory).ListUsersAsync(Ct)).Single(u => u.Name == "alice").UsedBytes);

        // Racing commits: together they would pass the quota, so at most one of them commits.
        await Admin(factory).UpdateUserAsync("alice", new UpdateUserRequest(QuotaBytes: 1500), Ct);
        var racers = Enumerable.Range(0, 4).Select(i => CommitAsync(factory, $"/home/alice/race-{i}.bin", 300)).ToList();
        var outcomes = await Task.WhenAll(racers.Select(async t =>
        {
            try { await t; return true; }
            catch (DfsProblemException p) when (p.Status == 507) { return false; }
        }));
        Assert.Equal(1, outcomes.Count(ok => ok));
        Assert.Equal(1300, (await Admin(factory).ListUsersAsync(Ct)).Single(u => u.Name == "alice").UsedBytes);

        // Outside homes (and in the home of no user) nothing is counted.
        Assert.Null(await InScope(factory, db => Quotas.LimitForAsync(db, "/projects/a", Ct)));
        Assert.Null(await InScope(factory, db => Quotas.LimitForAsync(db, "/home/ghost/a", Ct)));
        Assert.Equal(new QuotaLimit("alice", 1500), await InScope(factory, db => Quotas.LimitForAsync(db, "/home/alice/x/y", Ct)));
    }

    private static async Task<T> InScope<T>(GatewayFactory factory, Func<Data.MetadataDbContext, Task<T>> work)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<Data.MetadataDbContext>());
    }
}
