using Dfs.Bench.Baselines;
using Dfs.Bench.Cluster;
using Dfs.Bench.Measuring;
using Dfs.Bench.Results;
using Spectre.Console;

namespace Dfs.Bench;

/// <summary>What every workload needs: the options, the report it adds figures to, Dfs, nginx (when available) and the CPU meter.</summary>
public sealed class BenchContext(BenchOptions options, BenchReport report, DfsTarget dfs, NginxServer? nginx, HttpClient? nginxHttp)
{
    public BenchOptions Options { get; } = options;
    public BenchReport Report { get; } = report;
    public DfsTarget Dfs { get; } = dfs;
    public NginxServer? Nginx { get; } = nginx;

    /// <summary>A client for nginx with the same connection settings as the one for the gateway.</summary>
    public HttpClient? NginxHttp { get; } = nginxHttp;

    public CpuMeter Cpu { get; } = new(() => Groups(dfs, nginx), dfs.DatabaseCounters);

    public const string ClientGroup = "bench client";

    public static IReadOnlyDictionary<string, ProcessGroup> Groups(DfsTarget dfs, NginxServer? nginx)
    {
        var groups = dfs.ProcessGroups().ToDictionary(g => g.Key, g => new ProcessGroup(g.Value), StringComparer.Ordinal);
        if (nginx is not null) groups["nginx"] = new ProcessGroup([nginx.Pid]);
        // Only this process: the AppHost runs in here, but DCP runs the cluster's processes, counted above by component.
        groups[ClientGroup] = new ProcessGroup([Environment.ProcessId], IncludeDescendants: false);
        return groups;
    }

    public static void Log(string message) =>
        AnsiConsole.MarkupLine($"[grey]{DateTime.Now:HH:mm:ss}[/] {Markup.Escape(message)}");

    public static string MiBps(double bytes, double seconds) => Format.Value(bytes / (1 << 20) / seconds, "MiB/s");
}
