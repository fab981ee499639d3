using System.CommandLine;

namespace Dfs.Bench;

/// <summary>The workloads of a run; <c>--only</c> picks some.</summary>
[Flags]
public enum BenchWorkloads
{
    None = 0,
    /// <summary>1 GiB PUT and GET, the `dfs get`, the node-kill GET and re-replication.</summary>
    Large = 1,
    /// <summary>4 KiB PUT and GET with the benchmark's own client.</summary>
    Small = 2,
    /// <summary>4 KiB PUT and GET with wrk as the load generator.</summary>
    Wrk = 4,
    Listing = 8,
    Memory = 16,
    All = Large | Small | Wrk | Listing | Memory,
}

/// <summary>What to run and how big; the short mode shrinks every size so CI finishes in seconds.</summary>
public sealed record BenchOptions
{
    /// <summary>The names --only takes, each with its workload.</summary>
    public static readonly IReadOnlyDictionary<string, BenchWorkloads> WorkloadNames = new Dictionary<string, BenchWorkloads>(StringComparer.OrdinalIgnoreCase)
    {
        ["large"] = BenchWorkloads.Large,
        ["small"] = BenchWorkloads.Small,
        ["wrk"] = BenchWorkloads.Wrk,
        ["listing"] = BenchWorkloads.Listing,
        ["memory"] = BenchWorkloads.Memory,
    };

    public BenchWorkloads Workloads { get; init; } = BenchWorkloads.All;

    public bool Includes(BenchWorkloads workload) => (Workloads & workload) != 0;

    public bool Short { get; init; }
    public int Runs { get; init; } = 3;
    public long FileSize { get; init; } = 1L << 30;
    public long MemoryFileSize { get; init; } = 4L << 30;
    public long ChunkSize { get; init; } = 8L << 20;
    public int ListEntries { get; init; } = 100_000;
    public TimeSpan SmallObjectDuration { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// 4 KiB PUTs, then GETs, at 16 clients before anything is measured: the services' JIT compiles hot methods
    /// again, optimized, only after they ran a while (tiered compilation); nginx has no such warm-up.
    /// </summary>
    public TimeSpan SmallObjectWarmUp { get; init; } = TimeSpan.FromSeconds(15);
    public int[] Concurrencies { get; init; } = [1, 16, 64];
    public Uri? Gateway { get; init; }

    /// <summary>Bearer token for a running cluster's gateway (--token, else DFS_TOKEN).</summary>
    public string? Token { get; init; }
    public string JsonPath { get; init; } = Path.Combine("artifacts", "bench", "results.json");
    public string? MarkdownPath { get; init; }
    public bool SkipNginx { get; init; }

    /// <summary>Only the gateway-scaling figures (4 KiB GET with 1, 2, 3 gateways, cache on and off), each on a cluster of its own.</summary>
    public bool GatewayScaling { get; init; }

    /// <summary>Clients creating the listed directory's entries.</summary>
    public int ListWriters { get; init; } = 16;

    /// <summary>Creating the entries stops after this long; the listing figures then use what was created.</summary>
    public TimeSpan ListCreateBudget { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Extra environment for the Dfs services (experiments: what would move a figure); empty for figures of record.</summary>
    public IReadOnlyDictionary<string, string> ServiceEnvironment { get; init; } = new Dictionary<string, string>();

    public static BenchOptions Shortened(BenchOptions o) => o with
    {
        Short = true,
        Runs = 1,
        FileSize = Math.Min(o.FileSize, 8L << 20),
        MemoryFileSize = Math.Min(o.MemoryFileSize, 16L << 20),
        ChunkSize = 1L << 20,
        ListEntries = Math.Min(o.ListEntries, 50),
        ListWriters = Math.Min(o.ListWriters, 4),
        SmallObjectDuration = TimeSpan.FromMilliseconds(250),
        SmallObjectWarmUp = TimeSpan.FromMilliseconds(250),
        Concurrencies = [1, 4],
    };
}

/// <summary>The command line; the parsed options go to the action.</summary>
public static class BenchCommandLine
{
    public static RootCommand Create(Func<BenchOptions, CancellationToken, Task<int>> run)
    {
        var shortMode = new Option<bool>("--short") { Description = "A few seconds in all: tiny sizes, one run, nothing asserted about speed (CI)." };
        var runs = new Option<int>("--runs") { Description = "Runs per figure; the table shows medians.", DefaultValueFactory = _ => 3 };
        var size = new Option<string>("--size") { Description = "Size of the big file (1GiB, 256MiB, …).", DefaultValueFactory = _ => "1GiB" };
        var memorySize = new Option<string>("--memory-size") { Description = "Size of the file streamed while peak RSS is sampled.", DefaultValueFactory = _ => "4GiB" };
        var chunkSize = new Option<string>("--chunk-size") { Description = "The cluster's chunk size (the product's default is 8MiB).", DefaultValueFactory = _ => "8MiB" };
        var listEntries = new Option<int>("--list-entries") { Description = "Entries in the listed directory.", DefaultValueFactory = _ => 100_000 };
        var duration = new Option<double>("--ops-seconds") { Description = "Seconds per 4 KiB-object measurement.", DefaultValueFactory = _ => 5 };
        var gateway = new Option<string?>("--gateway") { Description = "Target a running cluster instead of starting one (node kills, re-replication and RSS are then skipped).", HelpName = "url" };
        var token = new Option<string?>("--token") { Description = "With --gateway: a bearer token for it (default: $DFS_TOKEN).", HelpName = "token" };
        var json = new Option<string>("--json") { Description = "Where to write every figure as JSON.", DefaultValueFactory = _ => Path.Combine("artifacts", "bench", "results.json") };
        var markdown = new Option<string?>("--markdown") { Description = "Where to write the table (a file with the results markers gets only that section replaced). Full runs default to docs/benchmarks.md.", HelpName = "path" };
        var noNginx = new Option<bool>("--no-nginx") { Description = "Skip the nginx baselines." };
        var only = new Option<string[]>("--only")
        {
            Description = $"Run only these workloads ({string.Join(", ", BenchOptions.WorkloadNames.Keys)}; comma-separated or repeated). " +
                          "Only a full run, or --only wrk (its own section), refreshes docs/benchmarks.md by default.",
            HelpName = "workloads",
        };
        var gatewayScaling = new Option<bool>("--gateway-scaling") { Description = "Only 4 KiB GETs against 1, 2 and 3 gateways sharing Redis, and one gateway without the small-chunk cache (a cluster each)." };
        var listWriters = new Option<int>("--list-writers") { Description = "Concurrent clients creating the listed directory's entries.", DefaultValueFactory = _ => 16 };
        var listBudget = new Option<double>("--list-create-minutes") { Description = "Stop creating entries after this long and list what exists.", DefaultValueFactory = _ => 10 };
        var serviceEnv = new Option<string[]>("--service-env")
        {
            Description = "KEY=VALUE added to every Dfs service's environment, for experiments (e.g. DOTNET_gcServer=0); repeatable.",
            HelpName = "KEY=VALUE",
            AllowMultipleArgumentsPerToken = false,
        };

        var root = new RootCommand("Dfs benchmark: each Dfs figure beside its baseline (nginx, a plain fsynced copy) measured in the same run.")
        {
            shortMode, runs, size, memorySize, chunkSize, listEntries, listWriters, listBudget, duration, gateway, token, json, markdown, noNginx, serviceEnv,
            gatewayScaling, only,
        };
        root.SetAction((result, ct) =>
        {
            // Checked here rather than in validators: there, options left at their defaults read as unset.
            var errors = new List<string>();
            if (result.GetValue(runs) < 1) errors.Add("--runs must be at least 1.");
            if (!Sizes.TryParse(result.GetValue(size), out var fileSize)) errors.Add($"--size: '{result.GetValue(size)}' is not a size (e.g. 1GiB, 512MiB).");
            if (!Sizes.TryParse(result.GetValue(memorySize), out var memoryFileSize)) errors.Add($"--memory-size: '{result.GetValue(memorySize)}' is not a size.");
            if (!Sizes.TryParse(result.GetValue(chunkSize), out var chunk)) errors.Add($"--chunk-size: '{result.GetValue(chunkSize)}' is not a size.");
            if (result.GetValue(listEntries) < 1) errors.Add("--list-entries must be at least 1.");
            if (result.GetValue(duration) <= 0) errors.Add("--ops-seconds must be positive.");
            if (result.GetValue(listWriters) < 1) errors.Add("--list-writers must be at least 1.");
            if (result.GetValue(listBudget) <= 0) errors.Add("--list-create-minutes must be positive.");
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var pair in result.GetValue(serviceEnv) ?? [])
            {
                var eq = pair.IndexOf('=');
                if (eq <= 0) errors.Add($"--service-env: '{pair}' is not KEY=VALUE.");
                else environment[pair[..eq]] = pair[(eq + 1)..];
            }
            var workloads = BenchWorkloads.None;
            foreach (var name in (result.GetValue(only) ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
            {
                if (BenchOptions.WorkloadNames.TryGetValue(name, out var w)) workloads |= w;
                else errors.Add($"--only: '{name}' is not a workload ({string.Join(", ", BenchOptions.WorkloadNames.Keys)}).");
            }
            if (result.GetValue(gateway) is { } text && !Uri.TryCreate(text, UriKind.Absolute, out _)) errors.Add($"--gateway: '{text}' is not a URL.");
            if (errors.Count > 0)
            {
                foreach (var error in errors) Console.Error.WriteLine(error);
                return Task.FromResult(2);
            }
            var options = new BenchOptions
            {
                Runs = result.GetValue(runs),
                FileSize = fileSize,
                MemoryFileSize = memoryFileSize,
                ChunkSize = chunk,
                ListEntries = result.GetValue(listEntries),
                SmallObjectDuration = TimeSpan.FromSeconds(result.GetValue(duration)),
                Gateway = result.GetValue(gateway) is { } g ? new Uri(g) : null,
                Token = result.GetValue(token) ?? (Environment.GetEnvironmentVariable("DFS_TOKEN") is { Length: > 0 } t ? t : null),
                JsonPath = result.GetValue(json)!,
                MarkdownPath = result.GetValue(markdown),
                SkipNginx = result.GetValue(noNginx),
                GatewayScaling = result.GetValue(gatewayScaling),
                ListWriters = result.GetValue(listWriters),
                ListCreateBudget = TimeSpan.FromMinutes(result.GetValue(listBudget)),
                ServiceEnvironment = environment,
                Workloads = workloads == BenchWorkloads.None ? BenchWorkloads.All : workloads,
            };
            if (result.GetValue(shortMode)) options = BenchOptions.Shortened(options);
            return run(options, ct);
        });
        return root;
    }
}

public static class Sizes
{
    public static bool TryParse(string? text, out long bytes)
    {
        bytes = 0;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        var units = new (string Suffix, long Factor)[] { ("GiB", 1L << 30), ("MiB", 1L << 20), ("KiB", 1L << 10), ("G", 1L << 30), ("M", 1L << 20), ("K", 1L << 10), ("B", 1) };
        long factor = 1;
        foreach (var (suffix, f) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            text = text[..^suffix.Length].Trim();
            factor = f;
            break;
        }
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0) return false;
        bytes = (long)(n * factor);
        return bytes > 0;
    }

    public static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 20 when bytes % (1L << 20) == 0 => $"{bytes >> 20} MiB",
        >= 1L << 10 when bytes % (1L << 10) == 0 => $"{bytes >> 10} KiB",
        _ => $"{bytes} B",
    };
}
