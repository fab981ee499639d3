using System.Collections.Concurrent;
using Dfs.Contracts.Clients;

namespace Dfs.Contracts.Tests;

/// <summary>
/// Hedged reads over replicas, driven by scripted replicas whose answers the test releases: the order they are asked in,
/// when the next one is asked (a failure at once, a slow answer after the delay, never more than two at a time), and what
/// happens to the answer that lost.
/// </summary>
public sealed class ReplicaRaceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A replica whose answer the test gives (or that fails) when it wants; records that it was asked and if it was cancelled.</summary>
    private sealed class Scripted
    {
        public TaskCompletionSource<Answer?> Reply { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource Asked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public bool Cancelled { get; private set; }

        public async Task<Answer?> AnswerAsync(CancellationToken ct)
        {
            Asked.TrySetResult();
            try
            {
                return await Reply.Task.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                Cancelled = true;
                throw;
            }
        }
    }

    private sealed class Answer(string from) : IDisposable
    {
        public string From { get; } = from;
        public bool Disposed { get; private set; }
        public void Dispose() => Disposed = true;
    }

    [Fact]
    public async Task A_failure_asks_the_next_replica_at_once_and_all_failing_answers_null()
    {
        var replicas = new[] { new Scripted(), new Scripted(), new Scripted() };
        var race = new ReplicaRace<Scripted>(replicas, hedgeDelay: TimeSpan.FromMinutes(10));
        var asked = new ConcurrentQueue<int>();
        var run = race.FirstAsync((r, ct) =>
        {
            asked.Enqueue(Array.IndexOf(replicas, r));
            return r.AnswerAsync(ct);
        }, Ct);

        foreach (var replica in replicas)
        {
            await replica.Asked.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            replica.Reply.SetResult(null);
        }

        Assert.Null(await run);
        Assert.Equal([0, 1, 2], asked);
        Assert.False(race.Hedged);
    }

    [Fact]
    public async Task A_slow_replica_gets_the_next_asked_beside_it_the_first_answer_wins_and_the_late_one_is_disposed()
    {
        var replicas = new[] { new Scripted(), new Scripted(), new Scripted() };
        var race = new ReplicaRace<Scripted>(replicas, hedgeDelay: TimeSpan.FromMilliseconds(50));
        var run = race.FirstAsync((r, ct) => r.AnswerAsync(ct), Ct);

        // The first does not answer: after the delay the second is asked, and no third while those two are under way.
        await replicas[1].Asked.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Task.Delay(300, Ct);
        Assert.False(replicas[2].Asked.Task.IsCompleted);

        var second = new Answer("second");
        replicas[1].Reply.SetResult(second);
        Assert.Same(second, await run.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.True(race.Hedged);
        Assert.True(race.AnsweredByHedge);
        Assert.False(second.Disposed);
        // The slow one was cancelled, and the race ended only after it had.
        Assert.True(replicas[0].Cancelled);
        Assert.False(replicas[2].Asked.Task.IsCompleted);
    }

    [Fact]
    public async Task Without_a_hedge_delay_a_slow_replica_is_waited_for_and_an_answer_that_lost_is_disposed()
    {
        var replicas = new[] { new Scripted(), new Scripted() };
        var race = new ReplicaRace<Scripted>(replicas, hedgeDelay: null);
        var run = race.FirstAsync((r, ct) => r.AnswerAsync(ct), Ct);
        await replicas[0].Asked.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await Task.Delay(300, Ct);
        Assert.False(replicas[1].Asked.Task.IsCompleted);

        var first = new Answer("first");
        replicas[0].Reply.SetResult(first);
        Assert.Same(first, await run.WaitAsync(TimeSpan.FromSeconds(10), Ct));
        Assert.False(race.Hedged);

        // Two answers at once: the one that lost is disposed (a pooled buffer goes back).
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var started = 0;
        var answers = new ConcurrentBag<Answer>();
        var tied = new ReplicaRace<string>(["x", "y"], hedgeDelay: TimeSpan.FromMilliseconds(1));
        var tiedRun = tied.FirstAsync<Answer>(async (name, _) =>
        {
            if (Interlocked.Increment(ref started) == 2) gate.SetResult();
            // Deaf to cancellation: the loser answers too, as a read that finished just as it was dropped does.
            await gate.Task;
            var answer = new Answer(name);
            answers.Add(answer);
            return answer;
        }, Ct);
        var winner = await tiedRun.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(2, answers.Count);
        Assert.False(winner!.Disposed);
        Assert.True(Assert.Single(answers, x => x != winner).Disposed);
    }
}
