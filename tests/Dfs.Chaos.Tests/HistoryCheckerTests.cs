using System.Security.Cryptography;
using Dfs.Chaos.Checking;
using Dfs.Chaos.Workload;

namespace Dfs.Chaos.Tests;

/// <summary>The checker's rules on small hand-made histories: each violation it must find, and what it must allow.</summary>
public sealed class HistoryCheckerTests
{
    private const string A = "/chaos/shared/f0";
    private const string B = "/chaos/client-1/n2";
    private long _nextId;

    private Op Put(long write, double start, double end, OpOutcome outcome = OpOutcome.Ok, string path = A, OpKind kind = OpKind.Put) =>
        new(++_nextId, 1, kind, path, start, end, outcome, outcome == OpOutcome.Ok ? 201 : outcome == OpOutcome.Failed ? 409 : 0, write);

    private Op Delete(double start, double end, OpOutcome outcome = OpOutcome.Ok, string path = A) =>
        new(++_nextId, 2, OpKind.Delete, path, start, end, outcome, outcome == OpOutcome.Ok ? 204 : 0);

    private Op Get(long seen, double start, double end, string path = A) =>
        new(++_nextId, 3, OpKind.Get, path, start, end, OpOutcome.Ok, seen == 0 ? 404 : 200, ReadWrite: seen);

    private static FinalRead Final(long write, string path = A) => new(path, write, false, false, 0);

    [Fact]
    public void An_acknowledged_write_that_is_gone_after_healing_is_a_lost_write()
    {
        var result = HistoryChecker.Check([Put(1, 0, 10)], [Final(0)]);

        Assert.Equal(1, result.AcknowledgedWritesLost);
        Assert.Contains(result.Violations, v => v.Kind == "acknowledged write lost" && v.Path == A);
    }

    [Fact]
    public void The_older_of_two_acknowledged_writes_left_after_healing_is_a_lost_write()
    {
        Assert.Equal(1, HistoryChecker.Check([Put(1, 0, 10), Put(2, 20, 30)], [Final(1)]).AcknowledgedWritesLost);
        Assert.Equal(0, HistoryChecker.Check([Put(1, 0, 10), Put(2, 20, 30)], [Final(2)]).AcknowledgedWritesLost);
    }

    [Fact]
    public void A_write_with_an_unknown_outcome_may_or_may_not_have_happened()
    {
        Op[] ops = [Put(1, 0, 10), Put(2, 20, 30, OpOutcome.Unknown)];

        Assert.Empty(HistoryChecker.Check(ops, [Final(1)]).Violations);
        Assert.Empty(HistoryChecker.Check(ops, [Final(2)]).Violations);
        Assert.Equal(1, HistoryChecker.Check(ops, [Final(0)]).AcknowledgedWritesLost);
    }

    [Fact]
    public void Overlapping_writes_may_land_in_either_order()
    {
        Op[] ops = [Put(1, 0, 30), Put(2, 10, 20)];

        Assert.Empty(HistoryChecker.Check(ops, [Final(1)]).Violations);
        Assert.Empty(HistoryChecker.Check(ops, [Final(2)]).Violations);
    }

    [Fact]
    public void A_read_of_a_value_replaced_before_it_began_is_stale_but_a_concurrent_one_is_not()
    {
        Assert.Equal(1, HistoryChecker.Check([Put(1, 0, 10), Put(2, 20, 30), Get(1, 40, 50)], [Final(2)]).StaleReads);
        Assert.Equal(0, HistoryChecker.Check([Put(1, 0, 10), Put(2, 20, 30), Get(1, 25, 35)], [Final(2)]).StaleReads);
    }

    [Fact]
    public void Not_found_after_an_acknowledged_write_needs_a_removal_that_could_have_come_after_it()
    {
        Assert.Equal(1, HistoryChecker.Check([Put(1, 0, 10), Get(0, 20, 30)], [Final(1)]).StaleReads);
        Assert.Equal(0, HistoryChecker.Check([Put(1, 0, 10), Delete(15, 25, OpOutcome.Unknown), Get(0, 20, 30)], [Final(0)]).StaleReads);
        Assert.Equal(1, HistoryChecker.Check([Delete(0, 5), Put(1, 10, 15), Get(0, 20, 30)], [Final(1)]).StaleReads);
    }

    [Fact]
    public void Reading_a_refused_write_or_one_never_sent_to_that_path_is_a_wrong_read()
    {
        var refused = HistoryChecker.Check([Put(1, 0, 10), Put(2, 20, 30, OpOutcome.Failed, kind: OpKind.PutIfAbsent), Get(2, 40, 50)], [Final(1)]);
        Assert.Equal(1, refused.WrongReads);

        var elsewhere = HistoryChecker.Check([Put(1, 0, 10, path: B), Get(1, 20, 30)], [Final(1, B)]);
        Assert.Equal(1, elsewhere.WrongReads);
    }

    [Fact]
    public void Bytes_that_are_no_write_s_are_a_wrong_read()
    {
        var bad = new Op(1, 1, OpKind.Get, A, 0, 10, OpOutcome.Ok, 200, ReadWrite: 7, BadBytes: true, Error: "mixed");

        Assert.Equal(1, HistoryChecker.Check([bad], []).WrongReads);
        Assert.Equal(1, HistoryChecker.Check([], [new FinalRead(A, 7, true, false, 0)]).WrongReads);
    }

    [Fact]
    public void A_conflict_fail_create_over_an_acknowledged_file_is_caught()
    {
        var result = HistoryChecker.Check([Put(1, 0, 10), Put(2, 20, 30, kind: OpKind.PutIfAbsent)], [Final(2)]);

        Assert.Contains(result.Violations, v => v.Kind == "conflict=fail over an existing file");
    }

    [Fact]
    public void A_move_empties_its_source_and_fills_its_target_with_the_moved_write()
    {
        Op[] ops = [Put(1, 0, 10), new(99, 1, OpKind.Move, A, 20, 30, OpOutcome.Ok, 200, 1, B)];

        Assert.Empty(HistoryChecker.Check(ops, [Final(0), Final(1, B)]).Violations);
        Assert.Equal(2, HistoryChecker.Check(ops, [Final(1), Final(0, B)]).AcknowledgedWritesLost);
    }

    [Fact]
    public void A_body_spliced_from_two_writes_matches_neither()
    {
        var first = new WriteContent(1_000_000_001, 300_000);
        var second = new WriteContent(2_000_000_001, 300_000);
        var spliced = first.Bytes();
        second.Bytes().AsSpan(262_144).CopyTo(spliced.AsSpan(262_144));

        Assert.Equal(first.WriteId, WriteContent.Claimed(spliced));
        Assert.False(SHA256.HashData(spliced).AsSpan().SequenceEqual(first.Sha256));
        Assert.True(SHA256.HashData(first.Bytes()).AsSpan().SequenceEqual(first.Sha256));
        Assert.Equal(0, WriteContent.Claimed(new byte[100]));
    }
}
