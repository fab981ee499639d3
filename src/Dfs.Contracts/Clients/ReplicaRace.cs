using Polly;
using Polly.Hedging;

namespace Dfs.Contracts.Clients;

/// <summary>
/// Hedged reads of what several replicas hold, on Polly's hedging strategy: the replicas are asked in order, the next one at
/// once when one fails, and also when the one asked has not answered within the hedge delay (two at most at a time); the
/// first answer wins, the other request is cancelled and its answer, if it came anyway, disposed. A replica that stalls
/// without failing (a congested link, a paused process, a dying disk) then costs its reader the delay instead of a time
/// limit, at the price of at most one extra request. At most 11 replicas are asked (Polly's limit of 10 hedged attempts).
/// </summary>
/// <param name="hedgeDelay">How long the replica asked may go unanswered before the next is asked too; null: never hedge.</param>
public sealed class ReplicaRace<TReplica>(IReadOnlyList<TReplica> replicas, TimeSpan? hedgeDelay) : ReplicaRace
{
    private readonly Lock _gate = new();
    private int _asked;
    private int _finished;
    private bool _answered;

    /// <summary>A replica was asked because the one before it was slow to answer (not because it failed).</summary>
    public bool Hedged { get; private set; }

    /// <summary>The answer came from such a replica.</summary>
    public bool AnsweredByHedge { get; private set; }

    internal override TimeSpan HedgeDelay
    {
        get
        {
            lock (_gate) return _asked - _finished == 1 && _asked < replicas.Count && hedgeDelay is { } delay ? delay : Timeout.InfiniteTimeSpan;
        }
    }

    /// <summary>The first answer; null when every replica failed.</summary>
    /// <param name="ask">Asks one replica: its answer, or null when it failed (it records why). Its token is cancelled when another answered first.</param>
    public async Task<TResult?> FirstAsync<TResult>(Func<TReplica, CancellationToken, Task<TResult?>> ask, CancellationToken ct)
        where TResult : class
    {
        var context = ResilienceContextPool.Shared.Get(ct);
        context.Properties.Set(Key, this);
        try
        {
            var outcome = await ReplicaHedging<TResult>.Pipeline.ExecuteOutcomeAsync(static async (attempt, state) =>
            {
                if (state.Race.Next() is not { } next) return Outcome.FromResult<TResult?>(null);
                var (replica, isHedge) = next;
                TResult? answer = null;
                try
                {
                    answer = await state.Ask(replica, attempt.CancellationToken);
                    return Outcome.FromResult<TResult?>(answer);
                }
                finally
                {
                    state.Race.Finished(answer is not null, isHedge);
                }
            }, context, (Race: this, Ask: ask));
            outcome.ThrowIfException();
            return outcome.Result;
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private (TReplica Replica, bool IsHedge)? Next()
    {
        lock (_gate)
        {
            if (_asked == replicas.Count) return null;
            // Asked while an earlier request is still under way: a hedge, not a failover.
            var hedge = _asked > _finished;
            Hedged |= hedge;
            return (replicas[_asked++], hedge);
        }
    }

    private void Finished(bool answered, bool isHedge)
    {
        lock (_gate)
        {
            _finished++;
            if (!answered || _answered) return;
            _answered = true;
            AnsweredByHedge = isHedge;
        }
    }
}

/// <summary>What the hedging pipeline reads of a race in progress.</summary>
public abstract class ReplicaRace
{
    internal static readonly ResiliencePropertyKey<ReplicaRace> Key = new("dfs.replica-race");

    /// <summary>The hedge delay while exactly one request is under way and a replica is left; otherwise only a failure asks the next.</summary>
    internal abstract TimeSpan HedgeDelay { get; }
}

/// <summary>One pipeline per answer type: an attempt that answers null (failed, or no replica left) is handled, so the next is asked.</summary>
internal static class ReplicaHedging<TResult> where TResult : class
{
    public static readonly ResiliencePipeline<TResult?> Pipeline = new ResiliencePipelineBuilder<TResult?>()
        .AddHedging(new HedgingStrategyOptions<TResult?>
        {
            MaxHedgedAttempts = 10,
            ShouldHandle = args => ValueTask.FromResult(args.Outcome is { Exception: null, Result: null }),
            DelayGenerator = args => ValueTask.FromResult(args.Context.Properties.GetValue(ReplicaRace.Key, null!).HedgeDelay),
        })
        .Build();
}
