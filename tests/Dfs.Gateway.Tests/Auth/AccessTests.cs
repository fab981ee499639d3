using System.Net;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using static Dfs.Gateway.Tests.Auth.AuthKit;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>Who may read and write which paths: homes, shares, admins; and what a refusal gives away (nothing).</summary>
public sealed class AccessTests
{
    private static async Task<(GatewayFactory Factory, IGatewayApi Admin, IGatewayApi Alice, IGatewayApi Bob)> StartAsync(string provider)
    {
        var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        var alice = await CreateUserAsync(factory, "alice");
        var bob = await CreateUserAsync(factory, "bob");
        return (factory, Admin(factory), alice, bob);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_refusal_is_403_whether_or_not_the_path_exists(string provider)
    {
        var (factory, admin, alice, bob) = await StartAsync(provider);
        await using var _ = factory;
        await PutEmptyAsync(bob, "/home/bob/secret.txt");
        await bob.MkdirAsync("/home/bob/dir", parents: false, Ct);
        await PutEmptyAsync(admin, "/etc/config.txt");

        foreach (var path in new[] { "/home/bob/secret.txt", "/home/bob/missing.txt", "/home/bob/dir", "/home/bob/no/such/dir", "/etc/config.txt", "/etc/missing" })
        {
            await ForbiddenAsync("read", path, async () => { await using var d = await alice.GetFileAsync(path, ct: Ct); });
            await ForbiddenAsync("read", path, () => alice.StatAsync(path, Ct));
            await ForbiddenAsync("read", path, () => alice.ListAsync(path, ct: Ct));
            await ForbiddenAsync("write", path, () => alice.DeleteAsync(path, recursive: true, Ct));
            await ForbiddenAsync("write", path, () => alice.MkdirAsync(path, parents: true, Ct));
            await ForbiddenAsync("write", path, () => alice.PutFileAsync(path, new MemoryStream([1, 2, 3]), new PutFileOptions(ConflictPolicy.Overwrite), Ct));
            await ForbiddenAsync("write", path, () => alice.MoveAsync(path, "/home/alice/taken", Ct));
        }
        // HEAD too, and through a raw client: the same status for an existing and a missing file.
        using var http = factory.CreateClient(GatewayCredentials.Basic("alice", PasswordOf("alice")));
        foreach (var path in new[] { "home/bob/secret.txt", "home/bob/missing.txt" })
            Assert.Equal(HttpStatusCode.Forbidden, (await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/api/files/" + path), Ct)).StatusCode);
        // Inside one's own home, a missing path is what it is: 404.
        await FailsAsync(HttpStatusCode.NotFound, () => alice.StatAsync("/home/alice/missing.txt", Ct));
        await FailsAsync(HttpStatusCode.NotFound, async () => { await using var d = await alice.GetFileAsync("/home/alice/missing.txt", ct: Ct); });
        // Nothing changed.
        Assert.Equal(["dir", "secret.txt"], (await bob.ListAsync("/home/bob", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Empty((await alice.ListAsync("/home/alice", ct: Ct)).Entries);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Owners_and_admins_may_do_anything_with_their_paths(string provider)
    {
        var (factory, admin, alice, _) = await StartAsync(provider);
        await using var __ = factory;

        await alice.MkdirAsync("/home/alice/a/b", parents: true, Ct);
        await PutEmptyAsync(alice, "/home/alice/a/b/f.txt");
        await alice.MoveAsync("/home/alice/a", "/home/alice/c", Ct);
        await using (var d = await alice.GetFileAsync("/home/alice/c/b/f.txt", ct: Ct)) Assert.Equal(0, d.Length);
        await alice.DeleteAsync("/home/alice/c", recursive: true, Ct);

        // Admins: everywhere, homes included.
        await PutEmptyAsync(admin, "/home/alice/from-admin.txt");
        await admin.MkdirAsync("/projects/x", parents: true, Ct);
        await admin.MoveAsync("/home/alice/from-admin.txt", "/projects/x/f.txt", Ct);
        Assert.Equal(["f.txt"], (await admin.ListAsync("/projects/x", ct: Ct)).Entries.Select(e => e.Name));
        await ForbiddenAsync("write", "/projects/y", () => alice.MkdirAsync("/projects/y", parents: true, Ct));
        await ForbiddenAsync("write", "/home", () => alice.MkdirAsync("/home", parents: true, Ct));
        await ForbiddenAsync("write", "/", () => alice.MkdirAsync("/", parents: true, Ct));
        // A user may not move their own home away (its new place is not theirs).
        await ForbiddenAsync("write", "/home/alice2", () => alice.MoveAsync("/home/alice", "/home/alice2", Ct));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_read_share_lets_read_and_a_readwrite_share_lets_write(string provider)
    {
        var (factory, admin, alice, bob) = await StartAsync(provider);
        await using var _ = factory;
        await PutEmptyAsync(alice, "/home/alice/docs/report.txt");
        await PutEmptyAsync(alice, "/home/alice/private/diary.txt");

        var share = await alice.CreateShareAsync("/home/alice/docs", "bob", ShareAccess.Read, Ct);
        Assert.Equal(new ShareInfo(share.Id, "/home/alice/docs", "alice", "bob", "read", share.CreatedAt), share);

        await using (var d = await bob.GetFileAsync("/home/alice/docs/report.txt", ct: Ct)) Assert.Equal(0, d.Length);
        Assert.Equal(["report.txt"], (await bob.ListAsync("/home/alice/docs", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(EntryKind.File, (await bob.StatAsync("/home/alice/docs/report.txt", Ct)).Kind);
        await FailsAsync(HttpStatusCode.NotFound, () => bob.StatAsync("/home/alice/docs/missing", Ct)); // inside the share: existence is no secret
        await ForbiddenAsync("write", "/home/alice/docs/new.txt", () => PutEmptyAsync(bob, "/home/alice/docs/new.txt"));
        await ForbiddenAsync("write", "/home/alice/docs/report.txt", () => bob.DeleteAsync("/home/alice/docs/report.txt", false, Ct));
        await ForbiddenAsync("write", "/home/alice/docs/sub", () => bob.MkdirAsync("/home/alice/docs/sub", false, Ct));
        await ForbiddenAsync("read", "/home/alice/private/diary.txt", () => bob.StatAsync("/home/alice/private/diary.txt", Ct));
        await ForbiddenAsync("read", "/home/alice/docsx", () => bob.StatAsync("/home/alice/docsx", Ct)); // a prefix of a name is not below it

        // Sharing again changes the access.
        var upgraded = await alice.CreateShareAsync("/home/alice/docs", "bob", ShareAccess.ReadWrite, Ct);
        Assert.Equal(share.Id, upgraded.Id);
        Assert.Equal("readwrite", upgraded.Access);
        await PutEmptyAsync(bob, "/home/alice/docs/new.txt");
        await bob.MkdirAsync("/home/alice/docs/sub", false, Ct);
        await bob.DeleteAsync("/home/alice/docs/new.txt", false, Ct);
        // conflict=rename may land beside the target: it needs write on the directory, which this share covers.
        await bob.PutFileAsync("/home/alice/docs/report.txt", new MemoryStream(), new PutFileOptions(ConflictPolicy.Rename), Ct);
        Assert.Contains("report (1).txt", (await alice.ListAsync("/home/alice/docs", ct: Ct)).Entries.Select(e => e.Name));

        var listed = await bob.ListSharesAsync(ct: Ct);
        Assert.Empty(listed.Given);
        Assert.Equal([share.Id], listed.Received.Select(s => s.Id));
        Assert.Equal([share.Id], (await alice.ListSharesAsync(ct: Ct)).Given.Select(s => s.Id));
        await FailsAsync(HttpStatusCode.Forbidden, () => alice.ListSharesAsync(all: true, Ct));
        Assert.Single((await admin.ListSharesAsync(all: true, Ct)).Given);

        // Withdrawn: back to nothing.
        await alice.DeleteShareAsync(share.Id, Ct);
        await ForbiddenAsync("read", "/home/alice/docs/report.txt", () => bob.StatAsync("/home/alice/docs/report.txt", Ct));
        await FailsAsync(HttpStatusCode.NotFound, () => alice.DeleteShareAsync(share.Id, Ct));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Only_owners_and_admins_share_and_only_with_users_that_exist(string provider)
    {
        var (factory, admin, alice, bob) = await StartAsync(provider);
        await using var _ = factory;
        await CreateUserAsync(factory, "carol");
        await PutEmptyAsync(alice, "/home/alice/docs/a.txt");

        var e = await FailsAsync(HttpStatusCode.Forbidden, () => bob.CreateShareAsync("/home/alice/docs", "carol", ShareAccess.Read, Ct));
        Assert.Contains("do not own", e.Problem!.Detail);
        await FailsAsync(HttpStatusCode.Forbidden, () => bob.CreateShareAsync("/projects", "carol", ShareAccess.Read, Ct));
        await FailsAsync(HttpStatusCode.NotFound, () => alice.CreateShareAsync("/home/alice/docs", "nobody", ShareAccess.Read, Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => alice.CreateShareAsync("/home/alice/docs", "bob", "write", Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => alice.CreateShareAsync("/home/alice/docs", "alice", ShareAccess.Read, Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => alice.CreateShareAsync("/home/alice//docs", "bob", ShareAccess.Read, Ct));
        // Even a readwrite grantee does not own the path: no re-sharing.
        await alice.CreateShareAsync("/home/alice/docs", "bob", ShareAccess.ReadWrite, Ct);
        await FailsAsync(HttpStatusCode.Forbidden, () => bob.CreateShareAsync("/home/alice/docs", "carol", ShareAccess.Read, Ct));

        // An admin shares anything; a share in a home belongs to that home's owner, who may withdraw it.
        var byAdmin = await admin.CreateShareAsync("/home/alice/docs/a.txt", "carol", ShareAccess.Read, Ct);
        Assert.Equal("alice", byAdmin.Owner);
        var carol = As(factory, "carol");
        Assert.Equal(EntryKind.File, (await carol.StatAsync("/home/alice/docs/a.txt", Ct)).Kind);
        // The grantee may drop a share they received; others may not touch it.
        await FailsAsync(HttpStatusCode.NotFound, () => bob.DeleteShareAsync(byAdmin.Id, Ct));
        await carol.DeleteShareAsync(byAdmin.Id, Ct);
        await ForbiddenAsync("read", "/home/alice/docs/a.txt", () => carol.StatAsync("/home/alice/docs/a.txt", Ct));

        await admin.MkdirAsync("/projects/apollo", parents: true, Ct);
        var project = await admin.CreateShareAsync("/projects/apollo", "carol", ShareAccess.ReadWrite, Ct);
        Assert.Equal("admin", project.Owner);
        await PutEmptyAsync(carol, "/projects/apollo/plan.txt");
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_move_needs_write_access_on_both_sides(string provider)
    {
        var (factory, _, alice, bob) = await StartAsync(provider);
        await using var __ = factory;
        await PutEmptyAsync(alice, "/home/alice/rw/a.txt");
        await PutEmptyAsync(alice, "/home/alice/ro/b.txt");
        await PutEmptyAsync(bob, "/home/bob/c.txt");
        await alice.CreateShareAsync("/home/alice/rw", "bob", ShareAccess.ReadWrite, Ct);
        await alice.CreateShareAsync("/home/alice/ro", "bob", ShareAccess.Read, Ct);

        // Read-only source or target: refused, and nothing moves.
        await ForbiddenAsync("write", "/home/alice/ro/b.txt", () => bob.MoveAsync("/home/alice/ro/b.txt", "/home/bob/b.txt", Ct));
        await ForbiddenAsync("write", "/home/alice/ro/c.txt", () => bob.MoveAsync("/home/bob/c.txt", "/home/alice/ro/c.txt", Ct));
        await ForbiddenAsync("write", "/home/alice/x.txt", () => bob.MoveAsync("/home/alice/rw/a.txt", "/home/alice/x.txt", Ct));
        Assert.Equal(["a.txt"], (await alice.ListAsync("/home/alice/rw", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["b.txt"], (await alice.ListAsync("/home/alice/ro", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["c.txt"], (await bob.ListAsync("/home/bob", ct: Ct)).Entries.Select(e => e.Name));

        // Writable on both sides: allowed either way.
        await bob.MoveAsync("/home/alice/rw/a.txt", "/home/bob/a.txt", Ct);
        await bob.MoveAsync("/home/bob/c.txt", "/home/alice/rw/c.txt", Ct);
        Assert.Equal(["c.txt"], (await alice.ListAsync("/home/alice/rw", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["a.txt"], (await bob.ListAsync("/home/bob", ct: Ct)).Entries.Select(e => e.Name));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Users_see_only_the_way_to_what_they_may_read(string provider)
    {
        var (factory, admin, alice, bob) = await StartAsync(provider);
        await using var _ = factory;
        await admin.MkdirAsync("/etc", parents: false, Ct);
        await admin.MkdirAsync("/projects/apollo/docs", parents: true, Ct);
        await admin.MkdirAsync("/projects/gemini", parents: true, Ct);
        await PutEmptyAsync(bob, "/home/bob/shared/x.txt");
        await PutEmptyAsync(bob, "/home/bob/private.txt");

        Assert.Equal(["etc", "home", "projects"], (await admin.ListAsync("/", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["admin", "alice", "bob"], (await admin.ListAsync("/home", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["home"], (await alice.ListAsync("/", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["alice"], (await alice.ListAsync("/home", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(EntryKind.Directory, (await alice.StatAsync("/", Ct)).Kind);
        Assert.Equal(EntryKind.Directory, (await alice.StatAsync("/home", Ct)).Kind);
        await ForbiddenAsync("read", "/etc", () => alice.ListAsync("/etc", ct: Ct));
        await ForbiddenAsync("read", "/home/bob", () => alice.ListAsync("/home/bob", ct: Ct));

        await bob.CreateShareAsync("/home/bob/shared", "alice", ShareAccess.Read, Ct);
        await admin.CreateShareAsync("/projects/apollo", "alice", ShareAccess.Read, Ct);
        Assert.Equal(["home", "projects"], (await alice.ListAsync("/", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["alice", "bob"], (await alice.ListAsync("/home", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["shared"], (await alice.ListAsync("/home/bob", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["apollo"], (await alice.ListAsync("/projects", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["docs"], (await alice.ListAsync("/projects/apollo", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(EntryKind.Directory, (await alice.StatAsync("/home/bob", Ct)).Kind);
        await ForbiddenAsync("read", "/projects/gemini", () => alice.ListAsync("/projects/gemini", ct: Ct));
        await ForbiddenAsync("read", "/home/bob/private.txt", () => alice.StatAsync("/home/bob/private.txt", Ct));
        // Filtered pages still page.
        var first = await alice.ListAsync("/home", limit: 1, ct: Ct);
        Assert.Equal(["alice"], first.Entries.Select(e => e.Name));
        Assert.Equal(["bob"], (await alice.ListAsync("/home", first.NextCursor, 1, Ct)).Entries.Select(e => e.Name));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Node_management_is_for_admins_and_the_cluster_view_for_everyone(string provider)
    {
        var (factory, admin, alice, _) = await StartAsync(provider);
        await using var __ = factory;

        Assert.Empty(await alice.GetNodesAsync(Ct));
        Assert.Equal(0, (await alice.GetClusterAsync(Ct)).LiveNodes);
        using var http = factory.CreateClient(GatewayCredentials.Basic("alice", PasswordOf("alice")));
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(ApiRoutes.Replication, Ct)).StatusCode);
        foreach (var (method, url) in new[] { ("POST", "/api/nodes/n1/drain"), ("DELETE", "/api/nodes/n1/drain"), ("DELETE", "/api/nodes/n1?force=true") })
        {
            var problem = await ProblemAsync(await http.SendAsync(new HttpRequestMessage(new HttpMethod(method), url), Ct), HttpStatusCode.Forbidden);
            Assert.Equal("Forbidden", problem.Title);
        }
        // An admin gets past the check (and finds no such node).
        await FailsAsync(HttpStatusCode.NotFound, () => admin.DrainNodeAsync("n1", Ct));
        foreach (var call in new Func<Task>[]
                 {
                     () => alice.ListUsersAsync(Ct),
                     () => alice.CreateUserAsync(new CreateUserRequest("mallory", "mallory-password"), Ct),
                     () => alice.UpdateUserAsync("alice", new UpdateUserRequest(IsAdmin: true), Ct),
                     () => alice.DeleteUserAsync("bob", Ct),
                 })
            await FailsAsync(HttpStatusCode.Forbidden, call);
        Assert.False((await alice.WhoAmIAsync(Ct)).IsAdmin);
    }
}
