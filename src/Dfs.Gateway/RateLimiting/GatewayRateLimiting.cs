using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.RateLimiting;

/// <summary>Dfs:Gateway:RateLimit: a token bucket per user (per remote address for requests without one).</summary>
public sealed class GatewayRateLimitOptions
{
    public const string Section = "Dfs:Gateway:RateLimit";

    /// <summary>Sustained requests per second one user (or address) may make.</summary>
    [Range(1, 1_000_000)]
    public int PermitsPerSecond { get; set; } = 500;

    /// <summary>Requests that may arrive at once after a quiet period (the bucket's size).</summary>
    [Range(1, 10_000_000)]
    public int Burst { get; set; } = 1000;

    /// <summary>Requests over the limit that wait for a token instead of being refused at once.</summary>
    [Range(0, 100_000)]
    public int QueueLimit { get; set; }
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
        builder.Services.AddRateLimiter(_ => { });
        builder.Services.AddOptions<RateLimiterOptions>().Configure<IOptions<GatewayRateLimitOptions>>((limiter, configured) =>
        {
            var limits = configured.Value;
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
                IsExempt(context.Request.Path)
                    ? RateLimitPartition.GetNoLimiter("")
                    : RateLimitPartition.GetTokenBucketLimiter(PartitionKey(context), _ => new TokenBucketRateLimiterOptions
                    {
                        TokenLimit = limits.Burst,
                        TokensPerPeriod = limits.PermitsPerSecond,
                        ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                        QueueLimit = limits.QueueLimit,
                        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                        AutoReplenishment = true,
                    }));
            limiter.OnRejected = (rejected, _) => RejectAsync(rejected, limits);
        });
        return builder;
    }

    /// <summary>After authentication (the partition is the user when there is one), before the endpoints.</summary>
    public static WebApplication UseGatewayRateLimiting(this WebApplication app)
    {
        app.UseRateLimiter();
        return app;
    }

    /// <summary>Probes and the cluster's own signed traffic are never limited: throttling them would fake outages.</summary>
    private static bool IsExempt(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/alive") || path.StartsWithSegments("/internal");

    private static string PartitionKey(HttpContext context) =>
        context.User.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name }
            ? "user:" + name
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private static async ValueTask RejectAsync(OnRejectedContext rejected, GatewayRateLimitOptions limits)
    {
        var context = rejected.HttpContext;
        var seconds = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after)
            ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds))
            : 1;
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        var detail = string.Create(CultureInfo.InvariantCulture,
            $"The limit is {limits.PermitsPerSecond} requests per second with bursts of {limits.Burst}. Retry after {seconds} s.");
        // A browser on the console (a sign-in form posted too often, say) gets a page it can show.
        if (await Console.ConsoleSession.TryRefuseAsync(context, StatusCodes.Status429TooManyRequests, "Too many requests", detail)) return;
        await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", detail: detail).ExecuteAsync(context);
    }
}
