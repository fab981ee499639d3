using System.Net;
using Dfs.Contracts.Api;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using static Dfs.Gateway.Tests.Auth.AuthKit;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>Creating, changing and deleting users: validation, homes, generated passwords, the last admin.</summary>
public sealed class UserManagementTests
{
    [Theory]
    [InlineData("Alice")]
    [InlineData("1alice")]
    [InlineData("_alice")]
    [InlineData("")]
    [InlineData("al ice")]
    [InlineData("al/ice")]
    [InlineData("alïce")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")] // 33 characters
    public async Task Invalid_user_names_are_400(string name)
    {
        await using var factory = new GatewayFactory();
        factory.StartServer();
        var e = await FailsAsync(HttpStatusCode.BadRequest, () => Admin(factory).CreateUserAsync(new CreateUserRequest(name, "long-enough-password"), Ct));
        Assert.Contains("not a valid user name", e.Problem!.Detail);
        Assert.Equal(["admin"], (await Admin(factory).ListUsersAsync(Ct)).Select(u => u.Name));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Users_get_a_home_and_passwords_are_checked(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        var admin = Admin(factory);

        await FailsAsync(HttpStatusCode.BadRequest, () => admin.CreateUserAsync(new CreateUserRequest("alice", "1234567"), Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => admin.CreateUserAsync(new CreateUserRequest("alice", new string('p', 257)), Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => admin.CreateUserAsync(new CreateUserRequest("alice", "long-enough", QuotaBytes: -1), Ct));

        // The limits themselves are fine.
        var longest = "a" + new string('z', 28) + "._-";
        await admin.CreateUserAsync(new CreateUserRequest(longest, "12345678"), Ct);
        Assert.Equal(longest, (await As(factory, longest, "12345678").WhoAmIAsync(Ct)).Name);
        await admin.CreateUserAsync(new CreateUserRequest("carol", new string('p', 256)), Ct);
        Assert.Equal("carol", (await As(factory, "carol", new string('p', 256)).WhoAmIAsync(Ct)).Name);

        // No password given: one is generated and shown in this answer only.
        var created = await admin.CreateUserAsync(new CreateUserRequest("alice", QuotaBytes: 5000), Ct);
        Assert.Equal(24, created.Password!.Length);
        Assert.Equal(("alice", false, "/home/alice", 5000L, 0L), (created.Name, created.IsAdmin, created.Home, created.QuotaBytes!.Value, created.UsedBytes));
        Assert.Equal(EntryKind.Directory, (await admin.StatAsync("/home/alice", Ct)).Kind);
        Assert.Equal("alice", (await As(factory, "alice", created.Password).WhoAmIAsync(Ct)).Name);
        await FailsAsync(HttpStatusCode.Conflict, () => admin.CreateUserAsync(new CreateUserRequest("alice", "another-password"), Ct));

        // A file where the home would go refuses the user.
        await PutEmptyAsync(admin, "/home/dave");
        await FailsAsync(HttpStatusCode.Conflict, () => admin.CreateUserAsync(new CreateUserRequest("dave", "long-enough"), Ct));
        await FailsAsync(HttpStatusCode.Unauthorized, () => As(factory, "dave", "long-enough").WhoAmIAsync(Ct));

        await FailsAsync(HttpStatusCode.BadRequest, () => admin.UpdateUserAsync("alice", new UpdateUserRequest(Password: "short"), Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => admin.UpdateUserAsync("alice", new UpdateUserRequest(QuotaBytes: -5), Ct));
        await FailsAsync(HttpStatusCode.BadRequest, () => admin.UpdateUserAsync("alice", new UpdateUserRequest(QuotaBytes: 5, ClearQuota: true), Ct));
        var updated = await admin.UpdateUserAsync("alice", new UpdateUserRequest(QuotaBytes: 7000), Ct);
        Assert.Equal(7000, updated.QuotaBytes);
        Assert.Null((await admin.UpdateUserAsync("alice", new UpdateUserRequest(ClearQuota: true), Ct)).QuotaBytes);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task The_last_admin_can_be_neither_deleted_nor_demoted(string provider)
    {
        await using var factory = await GatewayFactory.CreateAsync(provider);
        factory.StartServer();
        var admin = Admin(factory);

        var e = await FailsAsync(HttpStatusCode.Conflict, () => admin.DeleteUserAsync("admin", Ct));
        Assert.Contains("last admin", e.Problem!.Detail);
        await FailsAsync(HttpStatusCode.Conflict, () => admin.UpdateUserAsync("admin", new UpdateUserRequest(IsAdmin: false), Ct));
        Assert.True((await admin.WhoAmIAsync(Ct)).IsAdmin);

        var second = await CreateUserAsync(factory, "second", isAdmin: true);
        await second.UpdateUserAsync("admin", new UpdateUserRequest(IsAdmin: false), Ct);
        await FailsAsync(HttpStatusCode.Forbidden, () => admin.ListUsersAsync(Ct));
        await FailsAsync(HttpStatusCode.Conflict, () => second.DeleteUserAsync("second", Ct));
        await FailsAsync(HttpStatusCode.Conflict, () => second.UpdateUserAsync("second", new UpdateUserRequest(IsAdmin: false), Ct));

        // With two admins again, either may go.
        await second.UpdateUserAsync("admin", new UpdateUserRequest(IsAdmin: true), Ct);
        await admin.DeleteUserAsync("second", Ct);
        Assert.Equal(["admin"], (await admin.ListUsersAsync(Ct)).Select(u => u.Name));
    }
}
