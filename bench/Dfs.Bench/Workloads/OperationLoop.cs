using System.Diagnostics;
using Dfs.Bench.Measuring;

namespace Dfs.Bench.Workloads;

/// <summary>N clients each doing one operation after another for a fixed time; every operation is timed.</summary>
public static class OperationLoop
{
    /// <param name="operation">(worker, sequence number within the worker) → one operation.</param>
    public static async Task<Latencies> RunAsync(int concurrency, TimeSpan duration, Func<int, long, CancellationToken, Task> operation, CancellationToken ct)
    {
        // A short warm-up at the same concurrency opens the connections and lets the JIT settle; it is not counted.
        var warmup = TimeSpan.FromMilliseconds(Math.Min(1000, duration.TotalMilliseconds / 5));
        await LoopAsync(concurrency, warmup, (w, i, t) => operation(w, -1 - i, t), ct);
        var (timings, errors, elapsed, firstError) = await LoopAsync(concurrency, duration, operation, ct);
        if (firstError is not null && errors > 0)
            BenchContext.Log($"{errors} operations failed; the first: {firstError.GetType().Name}: {firstError.Message}");
        return Latencies.From(timings, elapsed, errors);
    }

    private static async Task<(List<double>[] Timings, long Errors, double Elapsed, Exception? FirstError)> LoopAsync(
        int concurrency, TimeSpan duration, Func<int, long, CancellationToken, Task> operation, CancellationToken ct)
    {
        var timings = Enumerable.Range(0, concurrency).Select(_ => new List<double>(4096)).ToArray();
        long errors = 0;
        Exception? firstError = null;
        var started = Stopwatch.GetTimestamp();
        var end = started + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var workers = Enumerable.Range(0, concurrency).Select(worker => Task.Run(async () =>
        {
            var mine = timings[worker];
            for (long i = 0; Stopwatch.GetTimestamp() < end; i++)
            {
                ct.ThrowIfCancellationRequested();
                var opStarted = Stopwatch.GetTimestamp();
                try
                {
                    await operation(worker, i, ct);
                }
                catch (Exception e) when (!ct.IsCancellationRequested)
                {
                    if (Interlocked.Increment(ref errors) == 1) firstError = e;
                    continue;
                }
                mine.Add(Stopwatch.GetElapsedTime(opStarted).TotalMilliseconds);
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers);
        return (timings, errors, Stopwatch.GetElapsedTime(started).TotalSeconds, firstError);
    }
}
