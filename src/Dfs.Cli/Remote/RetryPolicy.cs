using Dfs.Contracts.Clients;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Dfs.Cli.Remote;

/// <summary>
/// The one retry rule of the CLI, as a Polly pipeline: transient failures (5xx, 408, 429, connection errors, timeouts, an
/// interrupted transfer) are retried with exponential backoff; everything else fails at once. Only idempotent operations
/// use it.
/// </summary>
public sealed record RetryPolicy(int Attempts, TimeSpan FirstDelay, TimeSpan RequestTimeout)
{
    public static RetryPolicy Default { get; } = new(4, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30));

    private static readonly ResiliencePropertyKey<Action<Exception, int>?> OnRetryKey = new("dfs.on-retry");

    public static bool IsTransient(Exception exception, CancellationToken ct) => exception switch
    {
        DfsApiException api => api.IsTransient,
        TransferInterruptedException => true,
        HttpRequestException http => http.StatusCode is null,
        HttpIOException => true,
        TimeoutException => true,
        TimeoutRejectedException => true,
        OperationCanceledException => !ct.IsCancellationRequested,
        _ => false,
    };

    /// <summary>
    /// Runs <paramref name="operation"/> until it succeeds, fails permanently, or attempts run out.
    /// With <paramref name="bounded"/>, each attempt gets <see cref="RequestTimeout"/> (metadata calls);
    /// transfers are unbounded because their duration grows with the file.
    /// </summary>
    public async Task<T> RunAsync<T>(
        Func<CancellationToken, Task<T>> operation,
        bool bounded,
        Action<Exception, int>? onRetry,
        CancellationToken ct)
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(OnRetryKey, onRetry);
        try
        {
            return await Build(bounded).ExecuteAsync(
                static async (context, operation) => await operation(context.CancellationToken), context, operation);
        }
        catch (TimeoutRejectedException e)
        {
            throw new TimeoutException($"the gateway did not answer within {RequestTimeout.TotalSeconds:0} s", e);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>Built per run, not kept: a record's copies (with { … }) must not share a pipeline built for other values.</summary>
    private ResiliencePipeline Build(bool bounded)
    {
        var builder = new ResiliencePipelineBuilder();
        if (Attempts > 1)
            builder.AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Attempts - 1,
                Delay = FirstDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Exception is { } e && IsTransient(e, args.Context.CancellationToken)),
                OnRetry = args =>
                {
                    args.Context.Properties.GetValue(OnRetryKey, null)?.Invoke(args.Outcome.Exception!, args.AttemptNumber + 2);
                    return ValueTask.CompletedTask;
                },
            });
        if (bounded) builder.AddTimeout(RequestTimeout);
        return builder.Build();
    }
}

/// <summary>A transfer that ended early (connection dropped, body shorter than announced); worth retrying.</summary>
public sealed class TransferInterruptedException(string message, Exception? inner = null) : IOException(message, inner);
