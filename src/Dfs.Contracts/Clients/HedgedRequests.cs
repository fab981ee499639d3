namespace Dfs.Contracts.Clients;

/// <summary>The first answer of a hedged request; <see cref="Value"/> is null when every candidate failed.</summary>
/// <param name="Hedged">A candidate was asked because the one before it was slow to answer (not because it failed).</param>
/// <param name="AnsweredByHedge">The answer came from such a candidate.</param>
public readonly record struct HedgedAnswer<T>(T? Value, bool Hedged, bool AnsweredByHedge) where T : class;

/// <summary>
/// Hedged requests for what several replicas hold: the candidates are asked in order, the next one at once when one fails,
/// and also when the one asked last has not answered within a delay; two at most are in flight, the first answer wins and
/// the other request is cancelled. A replica that stalls without failing (a congested link, a paused process, a dying
/// disk) then costs its reader the delay instead of a time limit, at the price of at most one extra request.
/// </summary>
public static class HedgedRequests
{
    /// <param name="ask">Asks one candidate: its answer, or null when it failed (it records why). Its token is cancelled when another candidate answered first.</param>
    /// <param name="hedgeDelay">How long the candidate asked last may go unanswered before the next is asked too; null: never hedge.</param>
    /// <param name="discard">Releases an answer that arrived after another had won.</param>
    public static async Task<HedgedAnswer<T>> FirstAsync<TCandidate, T>(IReadOnlyList<TCandidate> candidates,
        Func<TCandidate, CancellationToken, Task<T?>> ask, Func<TimeSpan?> hedgeDelay, Action<T>? discard, CancellationToken ct)
        where T : class
    {
        // Cancelled when the race ends: drops the losing request and the hedge timer still running.
        using var race = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var running = new List<Task<T?>>(2);
        var hedges = new List<Task<T?>>(1);
        var asked = 0;
        try
        {
            while (true)
            {
                if (running.Count == 0)
                {
                    if (asked == candidates.Count) return new HedgedAnswer<T>(null, hedges.Count > 0, false);
                    running.Add(ask(candidates[asked++], race.Token));
                }
                var timer = running.Count == 1 && asked < candidates.Count && hedgeDelay() is { } delay
                    ? Task.Delay(delay, race.Token)
                    : null;
                var done = timer is null ? await Task.WhenAny(running) : await Task.WhenAny(running.Append<Task>(timer));
                if (done == timer)
                {
                    await timer;
                    hedges.Add(ask(candidates[asked++], race.Token));
                    running.Add(hedges[^1]);
                    continue;
                }
                var finished = (Task<T?>)done;
                running.Remove(finished);
                if (await finished is { } answer) return new HedgedAnswer<T>(answer, hedges.Count > 0, hedges.Contains(finished));
            }
        }
        finally
        {
            await race.CancelAsync();
            // A dropped request that still got its answer releases it; the exception of one that failed is observed.
            foreach (var loser in running)
                _ = loser.ContinueWith(t =>
                {
                    if (t.IsCompletedSuccessfully) { if (t.Result is { } late) discard?.Invoke(late); }
                    else _ = t.Exception;
                }, TaskScheduler.Default);
        }
    }
}
