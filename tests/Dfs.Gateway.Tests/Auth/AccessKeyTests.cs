using System.Net;
using System.Security.Cryptography;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Gateway.Auth.AccessKeys;
using Dfs.Gateway.Data;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Dfs.Gateway.Tests.Auth.AuthKit;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>
/// S3 access keys: /api/keys for their users and admins, the 10-key limit, the secret sealed in its row under the master
/// key, and <see cref="AccessKeyService.FindAsync"/>, which the S3 API checks signatures with.
/// </summary>
public sealed class AccessKeyTests
{
    private const string MasterKeySetting = "Dfs:Gateway:AccessKeyMasterKey";
    private static readonly string MasterKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    private static async Task<GatewayFactory> StartAsync(string provider = MetadataDatabases.Sqlite, string? masterKey = null)
    {
        var factory = (await GatewayFactory.CreateAsync(provider)).With(MasterKeySetting, masterKey ?? MasterKey);
        factory.StartServer();
        return factory;
    }

    private static async Task<S3Credential?> FindAsync(GatewayFactory factory, string id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<AccessKeyService>().FindAsync(id, Ct);
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task Keys_are_created_listed_and_revoked_by_their_user_and_by_admins(string provider)
    {
        await using var factory = await StartAsync(provider);
        var admin = Admin(factory);
        var alice = await CreateUserAsync(factory, "alice");
        var bob = await CreateUserAsync(factory, "bob");

        var laptop = await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest(" laptop "), Ct);
        Assert.Matches("^DFS[A-Z2-7]{17}$", laptop.Id);
        Assert.Matches("^[A-Za-z0-9]{40}$", laptop.Secret);
        Assert.Equal(("alice", "laptop"), (laptop.User, laptop.Name));
        var unnamed = await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest(), Ct);
        Assert.Equal("", unnamed.Name);
        Assert.NotEqual(laptop.Id, unnamed.Id);
        Assert.NotEqual(laptop.Secret, unnamed.Secret);
        // Admins create keys for anyone; others only for themselves.
        var bobs = await admin.CreateAccessKeyAsync(new CreateAccessKeyRequest("ci", "bob"), Ct);
        Assert.Equal("bob", bobs.User);
        await FailsAsync(HttpStatusCode.Forbidden, () => bob.CreateAccessKeyAsync(new CreateAccessKeyRequest("x", "alice"), Ct));
        await FailsAsync(HttpStatusCode.NotFound, () => admin.CreateAccessKeyAsync(new CreateAccessKeyRequest("x", "nobody"), Ct));

        // A list shows no secret; a user sees their own keys only, and may not ask for anyone else's.
        var own = await alice.ListAccessKeysAsync(ct: Ct);
        Assert.Equal([laptop.Id, unnamed.Id], own.Select(k => k.Id));
        Assert.All(own, k => Assert.Equal("alice", k.User));
        Assert.Null(own[0].LastUsedAt);
        Assert.InRange((own[0].CreatedAt - laptop.CreatedAt).Duration(), TimeSpan.Zero, TimeSpan.FromMilliseconds(1)); // PostgreSQL keeps microseconds
        Assert.Equal(own.Select(k => k.Id), (await alice.ListAccessKeysAsync("alice", Ct)).Select(k => k.Id));
        await FailsAsync(HttpStatusCode.Forbidden, () => bob.ListAccessKeysAsync("alice", Ct));
        Assert.Equal([bobs.Id], (await bob.ListAccessKeysAsync(ct: Ct)).Select(k => k.Id));
        // Admins: everyone's, or one user's.
        Assert.Equal([laptop.Id, unnamed.Id, bobs.Id], (await admin.ListAccessKeysAsync(ct: Ct)).Select(k => k.Id));
        Assert.Equal([bobs.Id], (await admin.ListAccessKeysAsync("bob", Ct)).Select(k => k.Id));
        Assert.Empty(await admin.ListAccessKeysAsync("admin", Ct));
        await FailsAsync(HttpStatusCode.NotFound, () => admin.ListAccessKeysAsync("nobody", Ct));

        // Someone else's key is 404 to a non-admin, exactly like a key that does not exist.
        var probed = await FailsAsync(HttpStatusCode.NotFound, () => bob.RevokeAccessKeyAsync(laptop.Id, Ct));
        var missing = await FailsAsync(HttpStatusCode.NotFound, () => bob.RevokeAccessKeyAsync("DFSAAAAAAAAAAAAAAAAA", Ct));
        Assert.Equal(probed.Problem!.Title, missing.Problem!.Title);
        Assert.Equal(2, (await alice.ListAccessKeysAsync(ct: Ct)).Count);

        await alice.RevokeAccessKeyAsync(laptop.Id, Ct);
        await FailsAsync(HttpStatusCode.NotFound, () => alice.RevokeAccessKeyAsync(laptop.Id, Ct));
        await admin.RevokeAccessKeyAsync(unnamed.Id, Ct);
        await admin.RevokeAccessKeyAsync(bobs.Id, Ct);
        Assert.Empty(await admin.ListAccessKeysAsync(ct: Ct));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task The_secret_is_sealed_in_its_row_and_FindAsync_opens_it_until_the_key_or_its_user_is_gone(string provider)
    {
        await using var factory = await StartAsync(provider);
        var admin = Admin(factory);
        var alice = await CreateUserAsync(factory, "alice");
        var created = await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest("laptop"), Ct);

        // The row, read raw: the secret in no column, the sealed form nonce | ciphertext | tag under the master key with the id
        // as associated data.
        var row = await RawRowAsync(factory, created.Id);
        Assert.DoesNotContain(row.Values, v => v.Contains(created.Secret, StringComparison.Ordinal));
        Assert.DoesNotContain(row.Values, v => v.Contains(Convert.ToBase64String(Encoding.UTF8.GetBytes(created.Secret)), StringComparison.Ordinal));
        var sealedBytes = Convert.FromBase64String(row["SecretCipher"]);
        Assert.Equal(12 + 40 + 16, sealedBytes.Length);
        Assert.Equal(created.Secret, Open(sealedBytes, created.Id));
        Assert.Throws<AuthenticationTagMismatchException>(() => Open(sealedBytes, "DFSAAAAAAAAAAAAAAAAA"));

        var found = await FindAsync(factory, created.Id);
        var aliceId = (await RawUsersAsync(factory))["alice"];
        Assert.Equal(new S3Credential(new Dfs.Gateway.Auth.Caller(aliceId, "alice", false, null), created.Secret), found);
        Assert.Equal(found, await FindAsync(factory, created.Id)); // from the cache now
        Assert.Null(await FindAsync(factory, "DFSAAAAAAAAAAAAAAAAA"));
        Assert.Null(await FindAsync(factory, "not-an-access-key-id"));
        Assert.Null(await FindAsync(factory, ""));

        // Revoked: gone at once, cache or not.
        await alice.RevokeAccessKeyAsync(created.Id, Ct);
        Assert.Null(await FindAsync(factory, created.Id));

        // An admin's key finds an admin; a deleted user's keys go with them.
        var admins = await admin.CreateAccessKeyAsync(new CreateAccessKeyRequest(), Ct);
        Assert.True((await FindAsync(factory, admins.Id))!.Caller.IsAdmin);
        var another = await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest("desktop"), Ct);
        Assert.NotNull(await FindAsync(factory, another.Id));
        await admin.DeleteUserAsync("alice", Ct);
        Assert.Null(await FindAsync(factory, another.Id));
        Assert.Equal([admins.Id], (await admin.ListAccessKeysAsync(ct: Ct)).Select(k => k.Id));
    }

    [Theory, MemberData(nameof(MetadataDatabases.Providers), MemberType = typeof(MetadataDatabases))]
    public async Task A_keys_last_use_is_recorded_to_the_minute_and_listed(string provider)
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));
        await using var factory = (await GatewayFactory.CreateAsync(provider)).With(MasterKeySetting, MasterKey)
            .WithServices(s => s.AddSingleton<TimeProvider>(clock));
        factory.StartServer();
        var alice = await CreateUserAsync(factory, "alice");
        var used = await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest("used"), Ct);
        var idle = await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest("idle"), Ct);
        async Task<DateTime?> LastUsedAsync(string id) => (await alice.ListAccessKeysAsync(ct: Ct)).Single(k => k.Id == id).LastUsedAt;
        async Task UseAsync(string id)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<AccessKeyService>().MarkUsedAsync(id, Ct);
        }

        Assert.Null(await LastUsedAsync(used.Id));
        await UseAsync(used.Id);
        var first = clock.GetUtcNow().UtcDateTime;
        Assert.Equal(first, await LastUsedAsync(used.Id));
        // Within the minute: no write; after it, the new time.
        clock.Advance(TimeSpan.FromSeconds(30));
        await UseAsync(used.Id);
        Assert.Equal(first, await LastUsedAsync(used.Id));
        clock.Advance(TimeSpan.FromSeconds(31));
        await UseAsync(used.Id);
        Assert.Equal(clock.GetUtcNow().UtcDateTime, await LastUsedAsync(used.Id));
        Assert.Null(await LastUsedAsync(idle.Id));
    }

    [Fact]
    public async Task A_user_has_at_most_ten_keys()
    {
        await using var factory = await StartAsync();
        var alice = await CreateUserAsync(factory, "alice");
        var keys = new List<string>();
        for (var i = 0; i < AccessKeyService.MaxKeysPerUser; i++)
            keys.Add((await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest($"key {i}"), Ct)).Id);

        var e = await FailsAsync(HttpStatusCode.Conflict, () => alice.CreateAccessKeyAsync(new CreateAccessKeyRequest("one more"), Ct));
        Assert.Contains("10 access keys", e.Problem!.Detail);
        await FailsAsync(HttpStatusCode.Conflict, () => Admin(factory).CreateAccessKeyAsync(new CreateAccessKeyRequest("for her", "alice"), Ct));
        Assert.Equal(10, (await alice.ListAccessKeysAsync(ct: Ct)).Count);
        // Each user has their own ten; a revoked key makes room again.
        await Admin(factory).CreateAccessKeyAsync(new CreateAccessKeyRequest(), Ct);
        await alice.RevokeAccessKeyAsync(keys[3], Ct);
        await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest("one more"), Ct);
    }

    [Fact]
    public async Task Bad_names_are_400_problems_and_the_body_may_be_left_out()
    {
        await using var factory = await StartAsync();
        var alice = await CreateUserAsync(factory, "alice");

        foreach (var name in new[] { new string('n', 101), "tab\there", "new\nline", "\u0007" })
        {
            var e = await FailsAsync(HttpStatusCode.BadRequest, () => alice.CreateAccessKeyAsync(new CreateAccessKeyRequest(name), Ct));
            Assert.Equal("Invalid access key name", e.Problem!.Title);
        }
        Assert.Equal(new string('n', 100), (await alice.CreateAccessKeyAsync(new CreateAccessKeyRequest(new string('n', 100)), Ct)).Name);
        Assert.Single(await alice.ListAccessKeysAsync(ct: Ct));

        using var http = factory.CreateClient();
        using var bare = await http.PostAsync(ApiRoutes.AccessKeys, content: null, Ct);
        Assert.Equal(HttpStatusCode.Created, bare.StatusCode);
        Assert.StartsWith(ApiRoutes.AccessKeys + "/DFS", bare.Headers.Location!.OriginalString);
    }

    [Fact]
    public async Task Without_the_master_key_creating_is_503_and_nothing_is_found()
    {
        // Keys made under one master key, then the gateway restarted without one and with another one.
        await using var keyed = await StartAsync();
        var created = await Admin(keyed).CreateAccessKeyAsync(new CreateAccessKeyRequest("before"), Ct);

        await using var without = keyed.Restarted().With(MasterKeySetting, null);
        without.StartServer();
        var e = await FailsAsync(HttpStatusCode.ServiceUnavailable, () => Admin(without).CreateAccessKeyAsync(new CreateAccessKeyRequest(), Ct));
        Assert.Equal("Access keys are not configured", e.Problem!.Title);
        Assert.Contains("Dfs:Gateway:AccessKeyMasterKey", e.Problem.Detail);
        Assert.Null(await FindAsync(without, created.Id));
        // Listing and revoking need no secret.
        Assert.Equal([created.Id], (await Admin(without).ListAccessKeysAsync(ct: Ct)).Select(k => k.Id));

        await using var other = keyed.Restarted().With(MasterKeySetting, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        other.StartServer();
        Assert.Null(await FindAsync(other, created.Id));
        Assert.Contains(other.Warnings, w => w.Contains(created.Id, StringComparison.Ordinal) && w.Contains("AccessKeyMasterKey", StringComparison.Ordinal));

        // The right key (in upper case hex too) opens it again.
        await using var again = keyed.Restarted().With(MasterKeySetting, MasterKey.ToUpperInvariant());
        again.StartServer();
        Assert.NotNull(await FindAsync(again, created.Id));
    }

    [Theory]
    [InlineData("0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef00")]
    public async Task A_master_key_that_is_not_64_hex_digits_stops_the_gateway_at_start(string value)
    {
        await using var factory = new GatewayFactory().With(MasterKeySetting, value);
        var e = Assert.ThrowsAny<Exception>(() => factory.StartServer());
        Assert.Contains("Dfs:Gateway:AccessKeyMasterKey must be 64 hex digits", e.ToString());
        Assert.DoesNotContain(value, e.ToString());
    }

    private static string Open(byte[] sealedBytes, string keyId)
    {
        var plain = new byte[sealedBytes.Length - 12 - 16];
        using var aes = new AesGcm(Convert.FromHexString(MasterKey), 16);
        aes.Decrypt(sealedBytes.AsSpan(0, 12), sealedBytes.AsSpan(12, plain.Length), sealedBytes.AsSpan(12 + plain.Length), plain, Encoding.UTF8.GetBytes(keyId));
        return Encoding.UTF8.GetString(plain);
    }

    /// <summary>Every column of the key's row as the database holds it, as text.</summary>
    private static async Task<Dictionary<string, string>> RawRowAsync(GatewayFactory factory, string id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var connection = scope.ServiceProvider.GetRequiredService<MetadataDbContext>().Database.GetDbConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM access_keys";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<Dictionary<string, string>>();
        while (await reader.ReadAsync(Ct))
        {
            var row = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "";
            rows.Add(row);
        }
        var only = Assert.Single(rows);
        Assert.Equal(["CreatedAt", "Id", "LastUsedAt", "Name", "SecretCipher", "UserId"], only.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(id, only["Id"]);
        return only;
    }

    private static async Task<Dictionary<string, Guid>> RawUsersAsync(GatewayFactory factory)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<MetadataDbContext>().Users.ToDictionaryAsync(u => u.Name, u => u.Id, Ct);
    }
}
