using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Files;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Auth;

/// <summary>Users, clients and assertions shared by the authentication and access tests.</summary>
internal static class AuthKit
{
    public static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static string PasswordOf(string name) => name + "-Pa55word";

    public static IGatewayApi Admin(GatewayFactory factory) => DfsRefit.Gateway(factory.CreateClient());

    public static IGatewayApi As(GatewayFactory factory, string name, string? password = null) =>
        DfsRefit.Gateway(factory.CreateClient(GatewayCredentials.Basic(name, password ?? PasswordOf(name))));

    /// <summary>Creates <paramref name="name"/> through the admin API and returns a client that authenticates as them (Basic).</summary>
    public static async Task<IGatewayApi> CreateUserAsync(GatewayFactory factory, string name, long? quotaBytes = null, bool isAdmin = false)
    {
        var created = await Admin(factory).CreateUserAsync(new CreateUserRequest(name, PasswordOf(name), isAdmin, quotaBytes), Ct);
        Assert.Equal(name, created.Name);
        Assert.Null(created.Password);
        return As(factory, name);
    }

    /// <summary>An empty file through the real PUT (it needs no storage node).</summary>
    public static Task<PutFileResult> PutEmptyAsync(IGatewayApi client, string path) =>
        client.PutFileAsync(path, new MemoryStream(), new PutFileOptions(ConflictPolicy.Overwrite), Ct);

    /// <summary>
    /// A file of <paramref name="size"/> bytes committed by the real committer as if its one chunk were stored (no
    /// storage node runs in these tests): usage for quota tests.
    /// </summary>
    public static async Task CommitAsync(GatewayFactory factory, string path, int size)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        await scope.ServiceProvider.GetRequiredService<FileCommitter>().CommitAsync(path, ConflictPolicy.Fail, MetadataHarness.FakeUpload(bytes), Ct);
    }

    public static async Task<DfsApiException> FailsAsync(HttpStatusCode status, Func<Task> action)
    {
        var e = await Assert.ThrowsAsync<DfsApiException>(action);
        Assert.Equal(status, e.StatusCode);
        Assert.Equal((int)status, e.Problem?.Status);
        return e;
    }

    /// <summary>The 403 of the access rules: decided on the path alone, so its text never depends on what exists.</summary>
    public static async Task ForbiddenAsync(string verb, string path, Func<Task> action)
    {
        var e = await FailsAsync(HttpStatusCode.Forbidden, action);
        Assert.Equal("Forbidden", e.Problem!.Title);
        Assert.Equal($"You may not {verb} {path}.", e.Problem.Detail);
    }

    public static async Task<ApiProblem> ProblemAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        using (response)
        {
            Assert.Equal(status, response.StatusCode);
            if (response.RequestMessage?.Method == HttpMethod.Head) return new ApiProblem(null, null, (int)status, null, null);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<ApiProblem>(Ct);
            Assert.Equal((int)status, problem!.Status);
            return problem;
        }
    }
}

/// <summary>A clock the test moves (token expiry, cache lifetime).</summary>
internal sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
