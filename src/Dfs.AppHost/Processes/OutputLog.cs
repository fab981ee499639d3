namespace Dfs.AppHost.Processes;

/// <summary>
/// A resource's console output (stdout and stderr, one line each): the last lines in memory for
/// snapshots and error messages, every line appended to StateDir/logs/NAME.log. Each line gets the
/// next sequence number (from 1), so a reader that polls can ask for what came after what it saw.
/// </summary>
public sealed class OutputLog : IDisposable
{
    private readonly string[] _ring;
    private readonly object _gate = new();
    private readonly StreamWriter? _file;
    private int _next;
    private int _count;
    private long _lastSeq;

    public OutputLog(string? filePath, int capacity = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _ring = new string[capacity];
        FilePath = filePath;
        if (filePath is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(filePath)!);
        _file = new StreamWriter(new FileStream(filePath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
        {
            AutoFlush = true,
        };
    }

    public string? FilePath { get; }

    public void Append(string line)
    {
        lock (_gate)
        {
            _ring[_next] = line;
            _next = (_next + 1) % _ring.Length;
            if (_count < _ring.Length) _count++;
            _lastSeq++;
            try { _file?.WriteLine(line); }
            catch (ObjectDisposedException) { }
            catch (IOException) { }
        }
    }

    /// <summary>The last <paramref name="lines"/> lines, oldest first.</summary>
    public IReadOnlyList<string> Tail(int lines)
    {
        lock (_gate)
        {
            var n = Math.Min(lines, _count);
            var result = new string[n];
            for (var i = 0; i < n; i++)
                result[i] = _ring[(_next - n + i + _ring.Length) % _ring.Length];
            return result;
        }
    }

    /// <summary>The sequence number of the newest line; 0 before the first.</summary>
    public long LastSequence
    {
        get { lock (_gate) return _lastSeq; }
    }

    /// <summary>
    /// Up to <paramref name="max"/> lines with a sequence number above <paramref name="after"/>, oldest first,
    /// from what is still in memory (older lines are only in the log file). <see cref="OutputPage.Last"/> is
    /// what to pass as <paramref name="after"/> next time.
    /// </summary>
    public OutputPage Read(long after, int max)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(after);
        ArgumentOutOfRangeException.ThrowIfLessThan(max, 1);
        lock (_gate)
        {
            var oldest = _lastSeq - _count + 1;
            var from = Math.Max(after + 1, oldest);
            if (from > _lastSeq) return new OutputPage([], _lastSeq);
            var n = (int)Math.Min(max, _lastSeq - from + 1);
            var lines = new OutputLine[n];
            for (var i = 0; i < n; i++)
            {
                var seq = from + i;
                // The newest line sits just before _next; count back from it.
                var back = (int)(_lastSeq - seq);
                lines[i] = new OutputLine(seq, _ring[(_next - 1 - back + 2 * _ring.Length) % _ring.Length]);
            }
            return new OutputPage(lines, lines[^1].Seq);
        }
    }

    public void Dispose()
    {
        lock (_gate) _file?.Dispose();
    }
}

/// <summary>One line of a resource's output and its sequence number.</summary>
public sealed record OutputLine(long Seq, string Text);

/// <summary>
/// Lines read with <see cref="OutputLog.Read"/>; <see cref="Last"/> is the sequence of the last line
/// returned, or, when none were, of the newest line in the log.
/// </summary>
public sealed record OutputPage(IReadOnlyList<OutputLine> Lines, long Last);
