using System.Globalization;
using System.Text.RegularExpressions;

namespace Dfs.Bench.Wrk;

/// <summary>Failed requests of one wrk run, as wrk counts them.</summary>
/// <param name="Status">Answers with a status above 399 (wrk's "Non-2xx or 3xx responses", which in fact counts only 4xx and 5xx).</param>
public sealed record WrkErrors(long Connect, long Read, long Write, long Timeout, long Status)
{
    public long Total => Connect + Read + Write + Timeout + Status;

    public string Describe() =>
        $"{Status} answers of 4xx/5xx, socket errors: connect {Connect}, read {Read}, write {Write}, timeout {Timeout}";
}

/// <summary>One wrk run: what it did and what it cost (its own CPU, measured after it ended).</summary>
public sealed record WrkResult(long Requests, double Seconds, long Bytes, WrkErrors Errors, double P50Ms, double P90Ms, double P99Ms, double MaxMs, double CpuSeconds)
{
    public double RequestsPerSecond => Seconds > 0 ? Requests / Seconds : 0;
    public double BytesPerRequest => Requests > 0 ? (double)Bytes / Requests : 0;
}

/// <summary>
/// Reads what wrk printed. The figures come from the summary line our script's done() prints (exact counts, no units to
/// undo); wrk's own text lines are read too and must agree on the errors. A missing summary line means the script did
/// not run: wrk only warns about a script that fails to load and then measures its default request instead.
/// </summary>
public static partial class WrkOutput
{
    public const string SummaryTag = "dfs-bench-wrk:";

    /// <summary>The summary line, parsed; throws <see cref="FormatException"/> with the reason when the output is not what a good run prints.</summary>
    public static WrkResult Parse(string stdout, double cpuSeconds)
    {
        var line = stdout.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.StartsWith(SummaryTag, StringComparison.Ordinal))
            ?? throw new FormatException($"wrk printed no '{SummaryTag}' summary line: the Lua script did not run (a load or runtime error).");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var pair in line[SummaryTag.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq <= 0 || !double.TryParse(pair[(eq + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value))
                throw new FormatException($"wrk's summary line has a malformed field '{pair}': {line}");
            values[pair[..eq]] = value;
        }
        double Get(string key) => values.TryGetValue(key, out var v) ? v : throw new FormatException($"wrk's summary line lacks '{key}': {line}");
        long Count(string key) => checked((long)Get(key));

        var errors = new WrkErrors(Count("connect"), Count("read"), Count("write"), Count("timeout"), Count("status"));
        // Belt and braces: wrk's own lines count the same errors; take the larger if they ever disagree.
        if (TextErrors(stdout) is { } text)
            errors = new WrkErrors(Math.Max(errors.Connect, text.Connect), Math.Max(errors.Read, text.Read), Math.Max(errors.Write, text.Write),
                Math.Max(errors.Timeout, text.Timeout), Math.Max(errors.Status, text.Status));
        var seconds = Get("duration_us") / 1e6;
        if (seconds <= 0) throw new FormatException($"wrk reports a duration of {seconds} s: {line}");
        return new WrkResult(Count("requests"), seconds, Count("bytes"), errors,
            Get("p50_us") / 1000, Get("p90_us") / 1000, Get("p99_us") / 1000, Get("max_us") / 1000, cpuSeconds);
    }

    /// <summary>The errors in wrk's own text ("Non-2xx or 3xx responses: N", "Socket errors: connect N, read N, write N, timeout N"); null when it printed neither (a clean run).</summary>
    public static WrkErrors? TextErrors(string stdout)
    {
        var status = StatusLine().Match(stdout);
        var socket = SocketLine().Match(stdout);
        if (!status.Success && !socket.Success) return null;
        long N(Match m, string group) => m.Success ? long.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
        return new WrkErrors(N(socket, "connect"), N(socket, "read"), N(socket, "write"), N(socket, "timeout"), N(status, "n"));
    }

    [GeneratedRegex(@"Non-2xx or 3xx responses:\s*(?<n>\d+)")]
    private static partial Regex StatusLine();

    [GeneratedRegex(@"Socket errors:\s*connect\s*(?<connect>\d+),\s*read\s*(?<read>\d+),\s*write\s*(?<write>\d+),\s*timeout\s*(?<timeout>\d+)")]
    private static partial Regex SocketLine();
}
