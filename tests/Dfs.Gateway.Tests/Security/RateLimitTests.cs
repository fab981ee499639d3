using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Files;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Auth;
using Dfs.Gateway.Tests.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Tests.Security;

/// <summary>A token bucket per user: over the limit is 429 with Retry-After, and nothing of the refused request happens.</summary>
public sealed class RateLimitTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>One request a second, three at once: small enough to exhaust with a handful of requests.</summary>
    private static GatewayFactory Tiny() => new GatewayFactory()
        .With("Dfs:Gateway:RateLimit:PermitsPerSecond", "1")
        .With("Dfs:Gateway:RateLimit:Burst", "3");

    /// <summary>
    /// Ten GETs at once: three take the bucket's tokens, the rest are refused. At once rather than one by one, so the
    /// bucket is left (nearly) empty and stays so for most of a second: the requests that follow are refused too.
    /// </summary>
    private static async Task<HttpResponseMessage> ExhaustAsync(HttpClient http)
    {
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => http.GetAsync("/api/stat/rl/keep.bin", Ct)));
        Assert.All(responses, r => Assert.Contains(r.StatusCode, (HttpStatusCode[])[HttpStatusCode.OK, HttpStatusCode.TooManyRequests]));
        Assert.InRange(responses.Count(r => r.StatusCode == HttpStatusCode.OK), 1, 4);
        var refused = responses.First(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        foreach (var other in responses.Where(r => r != refused)) other.Dispose();
        return refused;
    }

    [Fact]
    public async Task Password_guessing_is_throttled_like_any_other_flood()
    {
        await using var factory = Tiny();
        using var guesser = factory.CreateAnonymousClient();
        guesser.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic("admin", "not-the-password");
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => guesser.GetAsync("/api/auth/whoami", Ct)));
        // Refused guesses stop costing a password hash: the limiter answers before authorization does.
        Assert.Contains(responses, r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.All(responses, r => Assert.Contains(r.StatusCode, (HttpStatusCode[])[HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests]));
    }

    [Fact]
    public async Task Flooding_gives_429_with_Retry_After_refused_writes_change_nothing_and_after_waiting_requests_succeed()
    {
        await using var factory = Tiny();
        factory.StartServer();
        await using (var scope = factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<FileCommitter>()
                .CommitAsync("/rl/keep.bin", ConflictPolicy.Fail, MetadataHarness.FakeUpload(new byte[100]), Ct);
        using var admin = factory.CreateClient();

        using var refused = await ExhaustAsync(admin);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<ApiProblem>(Ct);
        Assert.Equal((429, "Too many requests"), (problem!.Status, problem.Title));
        Assert.Contains("1 requests per second", problem.Detail);
        var retryAfter = int.Parse(Assert.Single(refused.Headers.GetValues("Retry-After")), CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 1, 2);

        // Writes while refused: none of them happens.
        using (var delete = await admin.DeleteAsync("/api/files/rl/keep.bin", Ct))
            Assert.Equal(HttpStatusCode.TooManyRequests, delete.StatusCode);
        using (var put = await admin.PutAsync("/api/files/rl/new.bin", new ByteArrayContent([]), Ct))
            Assert.Equal(HttpStatusCode.TooManyRequests, put.StatusCode);

        await Task.Delay(TimeSpan.FromSeconds(retryAfter), Ct);
        var gateway = DfsRefit.Gateway(admin);
        var stat = await HonouringRetryAfterAsync(() => gateway.StatAsync("/rl/keep.bin", Ct));
        Assert.Equal(100, stat.Size);
        var listing = await HonouringRetryAfterAsync(() => gateway.ListAsync("/rl", ct: Ct));
        Assert.Equal(["keep.bin"], listing.Entries.Select(e => e.Name));
    }

    /// <summary>
    /// A client that waits as told gets through within a few tries. Not at the first one for sure: the bucket's timer
    /// ticks once a second from its own start, so a token can come up to a period later than Retry-After promised.
    /// </summary>
    private static async Task<T> HonouringRetryAfterAsync<T>(Func<Task<T>> request)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await request();
            }
            catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.TooManyRequests && attempt < 4)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), Ct);
            }
        }
    }

    [Fact]
    public async Task Each_user_has_a_bucket_of_their_own_and_probes_and_the_internal_api_are_never_limited()
    {
        await using var factory = Tiny();
        factory.StartServer();
        await using (var scope = factory.Services.CreateAsyncScope())
            await scope.ServiceProvider.GetRequiredService<FileCommitter>()
                .CommitAsync("/rl/keep.bin", ConflictPolicy.Fail, MetadataHarness.FakeUpload(new byte[10]), Ct);
        var alice = await AuthKit.CreateUserAsync(factory, "alice");
        using var admin = factory.CreateClient();

        using (await ExhaustAsync(admin))
        {
        }

        // The admin is refused, alice is not.
        Assert.Equal("alice", (await alice.WhoAmIAsync(Ct)).Name);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/alive", Ct)).StatusCode);
        }
        using var cluster = factory.CreateClusterClient();
        for (var i = 0; i < 10; i++)
            Assert.Empty(await DfsRefit.GatewayInternal(cluster).GetNodesAsync(Ct));
    }

    [Fact]
    public void The_defaults_are_500_a_second_with_bursts_of_1000()
    {
        using var factory = new GatewayFactory();
        var options = factory.Services.GetRequiredService<IOptions<RateLimiting.GatewayRateLimitOptions>>().Value;
        Assert.Equal((500, 1000), (options.PermitsPerSecond, options.Burst));
    }

    [Theory]
    [InlineData("PermitsPerSecond", "0", "PermitsPerSecond")]
    [InlineData("Burst", "0", "Burst")]
    [InlineData("Burst", "10", "Burst must be at least PermitsPerSecond")]
    public async Task Invalid_limits_stop_the_gateway_at_start(string key, string value, string expected)
    {
        await using var factory = new GatewayFactory()
            .With("Dfs:Gateway:RateLimit:PermitsPerSecond", "100")
            .With("Dfs:Gateway:RateLimit:" + key, value);
        var error = Assert.ThrowsAny<Exception>(() => factory.StartServer());
        Assert.Contains(expected, error.ToString());
    }
}
