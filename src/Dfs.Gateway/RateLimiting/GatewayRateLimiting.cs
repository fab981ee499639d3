using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Dfs.Gateway.Shared;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.RateLimiting;

/// <summary>Dfs:Gateway:RateLimit: a token bucket per user (per remote address for requests without one), shared by the gateways.</summary>
public sealed class GatewayRateLimitOptions
{
    public const string Section = "Dfs:Gateway:RateLimit";

    /// <summary>Sustained requests per second one user (or address) may make, across all gateways.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 500;

    /// <summary>Requests that may arrive at once after a quiet period (the bucket's size).</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 1000;
}

/// <summary>
/// The buckets: in Redis when the gateways share it, so a user's budget is one budget whatever gateway they reach; in this
/// process otherwise, and while Redis is unreachable (each gateway then grants the whole budget: more, never a refusal
/// a healthy cluster would not have made).
/// </summary>
public sealed class GatewayRateLimiter(ISharedState shared, IOptions<GatewayRateLimitOptions> options) : IDisposable
{
    private readonly PartitionedRateLimiter<string> _local = PartitionedRateLimiter.Create<string, string>(bucket =>
        RateLimitPartition.GetTokenBucketLimiter(bucket, _ => new TokenBucketRateLimiterOptions
        {
            TokenLimit = options.Value.Burst,
            TokensPerPeriod = options.Value.PermitsPerSecond,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1),
            QueueLimit = 0,
            AutoReplenishment = true,
        }));

    public async ValueTask<RateDecision> TakeAsync(string bucket)
    {
        var limits = options.Value;
        if (shared.IsShared && await shared.TryTakeTokenAsync(bucket, limits.PermitsPerSecond, limits.Burst) is { } decision) return decision;
        using var lease = _local.AttemptAcquire(bucket);
        if (lease.IsAcquired) return new RateDecision(true, TimeSpan.Zero);
        return new RateDecision(false, lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : TimeSpan.FromSeconds(1));
    }

    public void Dispose() => _local.Dispose();
}

public static class GatewayRateLimiting
{
    public static WebApplicationBuilder AddGatewayRateLimiting(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<GatewayRateLimitOptions>()
            .BindConfiguration(GatewayRateLimitOptions.Section)
            .ValidateDataAnnotations()
            .Validate(o => o.Burst >= o.PermitsPerSecond,
                $"{GatewayRateLimitOptions.Section}:Burst must be at least PermitsPerSecond: the bucket holds at most Burst tokens, so a smaller one would lower the rate.")
            .ValidateOnStart();
        builder.Services.AddSingleton<GatewayRateLimiter>();
        return builder;
    }

    /// <summary>After authentication (the bucket is the user's when there is one), before the endpoints.</summary>
    public static WebApplication UseGatewayRateLimiting(this WebApplication app)
    {
        var limiter = app.Services.GetRequiredService<GatewayRateLimiter>();
        var limits = app.Services.GetRequiredService<IOptions<GatewayRateLimitOptions>>();
        app.Use(async (context, next) =>
        {
            if (IsExempt(context.Request.Path))
            {
                await next(context);
                return;
            }
            var decision = await limiter.TakeAsync(PartitionKey(context));
            if (decision.Allowed) await next(context);
            else await RejectAsync(context, decision.RetryAfter, limits.Value);
        });
        return app;
    }

    /// <summary>Probes and the cluster's own signed traffic are never limited: throttling them would fake outages.</summary>
    private static bool IsExempt(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/internal");

    private static string PartitionKey(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name }
            ? "user:" + name
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static async Task RejectAsync(HttpContext context, TimeSpan retryAfter, GatewayRateLimitOptions limits)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"The limit is {limits.PermitsPerSecond} requests per second with bursts of {limits.Burst}. Retry after {seconds} s.");
        // A browser on the console (a sign-in form posted too often, say) gets a page it can show.
        if (await Console.ConsoleSession.TryRefuseAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests", detail)) return;
        await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", detail: detail).ExecuteAsync(context);
    }
}
