using Dfs.Contracts.Clients;

namespace Dfs.Cli.Remote;

/// <summary>
/// The one retry rule of the CLI: transient failures (5xx, 408, 429, connection errors, timeouts, an interrupted
/// transfer) are retried with exponential backoff; everything else fails at once. Only idempotent operations use it.
/// </summary>
public sealed record RetryPolicy(int Attempts, TimeSpan FirstDelay, TimeSpan RequestTimeout)
{
    public static RetryPolicy Default { get; } = new(4, TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(30));

    public static bool IsTransient(Exception exception, CancellationToken ct) => exception switch
    {
        DfsApiException api => api.IsTransient,
        TransferInterruptedException => true,
        HttpRequestException http => http.StatusCode is null,
        HttpIOException => true,
        TimeoutException => true,
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
        for (var attempt = 1; ; attempt++)
        {
            using var attemptCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            if (bounded) attemptCts.CancelAfter(RequestTimeout);
            try
            {
                return await operation(attemptCts.Token);
            }
            catch (Exception ex) when (attempt < Attempts && IsTransient(ex, ct))
            {
                onRetry?.Invoke(ex, attempt + 1);
                await Task.Delay(FirstDelay * Math.Pow(2, attempt - 1), ct);
            }
            catch (OperationCanceledException ex) when (!ct.IsCancellationRequested)
            {
                throw new TimeoutException($"the gateway did not answer within {RequestTimeout.TotalSeconds:0} s", ex);
            }
        }
    }
}

/// <summary>A transfer that ended early (connection dropped, body shorter than announced); worth retrying.</summary>
public sealed class TransferInterruptedException(string message, Exception? inner = null) : IOException(message, inner);
