using Dfs.Chaos.Workload;

namespace Dfs.Chaos.Checking;

/// <summary>A path's state as read after healing: the write found (0: not found), or bytes that are no write's.</summary>
public sealed record FinalRead(string Path, long WriteId, bool BadBytes, bool Unreadable, long Size);

/// <summary>One thing the checker found wrong, with the operations that show it.</summary>
public sealed record Violation(string Kind, string Path, string Detail);

/// <summary>What the checker concluded about the history.</summary>
public sealed record CheckResult(
    int AcknowledgedWritesLost,
    int WrongReads,
    int StaleReads,
    int UnreadableAfterHeal,
    IReadOnlyList<Violation> Violations);

/// <summary>
/// Checks a history against what a register per path allows. A write is a mutation of its path (a PUT sets it to its
/// write id; a DELETE, or a move away, sets it to "absent"; a move in sets it to the moved write). An operation with an
/// unknown outcome may or may not have happened, at any time after it began; a definite refusal never happened.
/// <list type="bullet">
/// <item>Wrong read: bytes that are no write's, a mix of versions, bytes of a write never sent to that path or refused.</item>
/// <item>Stale read: a value that an acknowledged mutation had replaced before the read began (or "not found" when an
/// acknowledged PUT completed before the read began and nothing that could have removed it overlaps).</item>
/// <item>Acknowledged write lost: after healing, a path holds something no surviving mutation could have left there.</item>
/// </list>
/// </summary>
public static class HistoryChecker
{
    private sealed record Mutation(long Value, double Start, double End, bool Acked);

    public static CheckResult Check(IReadOnlyList<Op> ops, IReadOnlyList<FinalRead> finals)
    {
        var mutations = new Dictionary<string, List<Mutation>>(StringComparer.Ordinal);
        var refused = new HashSet<long>();
        foreach (var op in ops.Where(o => o.IsMutation))
        {
            if (op.Outcome == OpOutcome.Failed)
            {
                if (op.Kind is OpKind.Put or OpKind.PutIfAbsent) refused.Add(op.WriteId);
                continue;
            }
            var acked = op.Outcome == OpOutcome.Ok;
            switch (op.Kind)
            {
                case OpKind.Put or OpKind.PutIfAbsent: Add(op.Path, new Mutation(op.WriteId, op.Start, op.End, acked)); break;
                case OpKind.Delete: Add(op.Path, new Mutation(0, op.Start, op.End, acked)); break;
                case OpKind.Move:
                    Add(op.Path, new Mutation(0, op.Start, op.End, acked));
                    Add(op.To!, new Mutation(op.WriteId, op.Start, op.End, acked));
                    break;
            }
        }

        var violations = new List<Violation>();
        int wrong = 0, stale = 0;
        foreach (var op in ops)
        {
            if (op.BadBytes)
            {
                wrong++;
                violations.Add(new Violation("wrong read", op.Path, $"op {op.Id} ({op.Kind}, client {op.Client}): {op.Error}"));
                continue;
            }
            var isRead = op.Kind is OpKind.Get or OpKind.RangeGet or OpKind.Head && op.Outcome == OpOutcome.Ok && op.ReadWrite >= 0;
            var createdAsAbsent = op.Kind == OpKind.PutIfAbsent && op.Outcome == OpOutcome.Ok;
            if (!isRead && !createdAsAbsent) continue;
            var history = mutations.GetValueOrDefault(op.Path) ?? [];
            var seen = createdAsAbsent ? 0 : op.ReadWrite;
            if (seen > 0 && refused.Contains(seen))
            {
                wrong++;
                violations.Add(new Violation("wrong read", op.Path, $"op {op.Id} read write {seen}, which was refused"));
                continue;
            }
            var sources = history.Where(m => m.Value == seen).ToList();
            if (seen > 0 && sources.Count == 0)
            {
                wrong++;
                violations.Add(new Violation("wrong read", op.Path, $"op {op.Id} read write {seen}, never written to this path"));
                continue;
            }
            if (IsStale(history, seen, sources, op.Start, op.End))
            {
                stale++;
                violations.Add(new Violation(createdAsAbsent ? "conflict=fail over an existing file" : "stale read", op.Path,
                    $"op {op.Id} ({op.Kind}, client {op.Client}, {op.Start:0}-{op.End:0} ms) saw {(seen == 0 ? "no file" : $"write {seen}")}"));
            }
        }

        int lost = 0, unreadable = 0;
        foreach (var final in finals)
        {
            if (final.Unreadable)
            {
                unreadable++;
                violations.Add(new Violation("unreadable after heal", final.Path, "no answer after healing"));
                continue;
            }
            if (final.BadBytes)
            {
                wrong++;
                violations.Add(new Violation("wrong read", final.Path, "after healing: bytes that are no write's"));
                continue;
            }
            var history = mutations.GetValueOrDefault(final.Path) ?? [];
            // What may be there now: any mutation no acknowledged mutation began after; "absent" too when none was acknowledged.
            var survivors = history.Where(m => !history.Any(later => later.Acked && later.Start > m.End)).ToList();
            var allowed = survivors.Any(m => m.Value == final.WriteId) || final.WriteId == 0 && !history.Any(m => m.Acked);
            if (!allowed)
            {
                lost++;
                var expected = string.Join(", ", survivors.Select(m => m.Value == 0 ? "absent" : m.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                violations.Add(new Violation("acknowledged write lost", final.Path,
                    $"after healing: {(final.WriteId == 0 ? "not found" : $"write {final.WriteId}")}; possible: {expected}"));
            }
        }
        return new CheckResult(lost, wrong, stale, unreadable, violations);

        void Add(string path, Mutation m)
        {
            if (!mutations.TryGetValue(path, out var list)) mutations[path] = list = [];
            list.Add(m);
        }
    }

    /// <summary>
    /// Whether what a read saw had certainly been replaced before it began: some acknowledged mutation to another value
    /// began after every way the seen value could have been set ended, and completed before the read began.
    /// </summary>
    private static bool IsStale(List<Mutation> history, long seen, List<Mutation> sources, double readStart, double readEnd)
    {
        if (seen > 0)
        {
            var lastSet = sources.Max(m => m.End);
            return history.Any(m => m.Acked && m.Value != seen && m.Start > lastSet && m.End < readStart);
        }
        // Not found: wrong if an acknowledged PUT completed before the read began and nothing that removes the file could
        // have happened after that PUT began and before the read ended.
        return history.Any(put => put.Acked && put.Value != 0 && put.End < readStart
                                  && !history.Any(removal => removal.Value == 0 && removal.End > put.Start && removal.Start < readEnd));
    }
}
