namespace Dfs.AppHost.Processes;

/// <summary>
/// A resource's console output (stdout and stderr, one line each): the last lines in memory for
/// snapshots and error messages, every line appended to StateDir/logs/NAME.log.
/// </summary>
public sealed class OutputLog : IDisposable
{
    private readonly string[] _ring;
    private readonly object _gate = new();
    private readonly StreamWriter? _file;
    private int _next;
    private int _count;

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

    public void Dispose()
    {
        lock (_gate) _file?.Dispose();
    }
}
