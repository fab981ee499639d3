using Dfs.AppHost.Processes;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>The sequence-numbered read the logs API polls with.</summary>
public sealed class OutputLogReadTests
{
    [Fact]
    public void Lines_are_numbered_from_1_and_read_after_a_sequence()
    {
        using var log = new OutputLog(filePath: null, capacity: 10);
        Assert.Equal(0, log.LastSequence);
        var empty = log.Read(0, 5);
        Assert.Empty(empty.Lines);
        Assert.Equal(0, empty.Last);

        for (var i = 1; i <= 4; i++) log.Append("line " + i);

        var all = log.Read(0, 100);
        Assert.Equal([1L, 2, 3, 4], all.Lines.Select(l => l.Seq));
        Assert.Equal(["line 1", "line 2", "line 3", "line 4"], all.Lines.Select(l => l.Text));
        Assert.Equal(4, all.Last);

        var page = log.Read(1, 2);
        Assert.Equal([new OutputLine(2, "line 2"), new OutputLine(3, "line 3")], page.Lines);
        Assert.Equal(3, page.Last);

        var caughtUp = log.Read(4, 10);
        Assert.Empty(caughtUp.Lines);
        Assert.Equal(4, caughtUp.Last);

        // A reader from the future (a previous run's position) is sent back to where the log is.
        var ahead = log.Read(99, 10);
        Assert.Empty(ahead.Lines);
        Assert.Equal(4, ahead.Last);
    }

    [Fact]
    public void Only_what_the_ring_still_holds_is_read_and_numbers_keep_counting()
    {
        using var log = new OutputLog(filePath: null, capacity: 3);
        for (var i = 1; i <= 8; i++) log.Append("line " + i);

        var all = log.Read(0, 100);
        Assert.Equal([6L, 7, 8], all.Lines.Select(l => l.Seq));
        Assert.Equal(["line 6", "line 7", "line 8"], all.Lines.Select(l => l.Text));
        Assert.Equal(["line 6", "line 7", "line 8"], log.Tail(10));
        Assert.Equal(8, log.LastSequence);

        Assert.Equal([new OutputLine(8, "line 8")], log.Read(7, 10).Lines);
        Assert.Equal([new OutputLine(6, "line 6")], log.Read(2, 1).Lines);

        log.Append("line 9");
        Assert.Equal([new OutputLine(9, "line 9")], log.Read(8, 10).Lines);
        Assert.Equal([7L, 8, 9], log.Read(0, 10).Lines.Select(l => l.Seq));
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        using var log = new OutputLog(filePath: null);
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Read(-1, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => log.Read(0, 0));
    }
}
