using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dfs.Chaos;
using Dfs.Chaos.Faults;
using Dfs.Chaos.Network;
using Dfs.Chaos.Reporting;

// dotnet chaos/Dfs.Chaos/bin/Release/net10.0/Dfs.Chaos.dll [--seed N] [--duration SECONDS] [--min-ops N] [--clients N]
//   [--nodes N] [--shared-names N] [--faults KIND,KIND…] [--markdown FILE] [--json FILE] [--history FILE]. Exit code 0: the history checked out; 1: it did not;
// 2: the run could not be set up.
var values = new Dictionary<string, string>(StringComparer.Ordinal);
for (var i = 0; i < args.Length; i++)
{
    if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
    {
        Console.Error.WriteLine($"error: expected --name value pairs, got '{args[i]}'.");
        return 2;
    }
    values[args[i][2..]] = args[++i];
}
var known = new[] { "seed", "duration", "min-ops", "clients", "nodes", "shared-names", "faults", "markdown", "json", "history" };
if (values.Keys.FirstOrDefault(k => !known.Contains(k)) is { } unknown)
{
    Console.Error.WriteLine($"error: unknown option --{unknown}; the options are {string.Join(", ", known.Select(k => "--" + k))}.");
    return 2;
}

int Number(string name, int fallback, int min) =>
    !values.TryGetValue(name, out var text) ? fallback
    : int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min ? value
    : throw new ArgumentException($"--{name} must be a whole number ≥ {min} (got '{text}').");

static FaultKind ParseFault(string name) =>
    Enum.TryParse<FaultKind>(name.Trim(), ignoreCase: true, out var kind) && Enum.IsDefined(kind) ? kind
    : throw new ArgumentException($"--faults: '{name}' is not one of {string.Join(", ", Enum.GetNames<FaultKind>())}.");

ChaosOptions options;
try
{
    options = new ChaosOptions(
        Seed: Number("seed", Random.Shared.Next(1, 1_000_000), 0),
        Duration: TimeSpan.FromSeconds(Number("duration", 600, 10)),
        MinOperations: Number("min-ops", 0, 0),
        Clients: Number("clients", 8, 1),
        Nodes: Number("nodes", 5, 3),
        SharedNames: Number("shared-names", 24, 1),
        Markdown: values.GetValueOrDefault("markdown"),
        Json: values.GetValueOrDefault("json"),
        HistoryFile: values.GetValueOrDefault("history"),
        Faults: values.TryGetValue("faults", out var faults) ? [.. faults.Split(',').Select(ParseFault)] : Enum.GetValues<FaultKind>());
}
catch (ArgumentException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

Console.WriteLine($"chaos run, seed {options.Seed} (replay: --seed {options.Seed} --duration {options.Duration.TotalSeconds:0})");
using var interrupt = new CancellationTokenSource();
// Ctrl+C or SIGTERM end the workload early; healing, the checks and the clean-up (namespaces, mounts, processes) still run.
using var onInterrupt = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, Stop);
using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, Stop);
ChaosReport report;
try
{
    report = await ChaosRun.RunAsync(options, Console.Out, interrupt.Token);
}
catch (ChaosSetupException e)
{
    Console.Error.WriteLine("error: " + e.Message);
    return 2;
}

var markdown = ReportWriter.Markdown(report);
Console.WriteLine();
Console.WriteLine(markdown);
if (options.Markdown is { } markdownPath) await File.WriteAllTextAsync(markdownPath, markdown);
if (options.Json is { } jsonPath)
{
    Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(jsonPath))!);
    await File.WriteAllTextAsync(jsonPath, JsonSerializer.Serialize(report, new JsonSerializerOptions
    {
        WriteIndented = true,
        IncludeFields = true,
        Converters = { new JsonStringEnumConverter() },
    }));
}
Console.WriteLine(report.Passed ? $"PASSED (seed {options.Seed})" : $"FAILED (seed {options.Seed}; replay with --seed {options.Seed})");
return report.Passed ? 0 : 1;

void Stop(System.Runtime.InteropServices.PosixSignalContext context)
{
    context.Cancel = true;
    interrupt.Cancel();
}
