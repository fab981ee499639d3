using System.Collections;
using System.Globalization;
using System.Text;
using Dfs.AppHost.Model;
using Microsoft.Extensions.Configuration;

namespace Dfs.AppHost.Hosting;

/// <summary>The outcome of reading the command line, appsettings.json and the environment.</summary>
public sealed record AppHostCommand(DfsAppHostOptions? Options, bool ShowHelp, IReadOnlyList<string> Errors)
{
    public bool IsValid => Options is not null && Errors.Count == 0;
}

/// <summary>One command-line switch and the setting (under Dfs:AppHost) it sets.</summary>
public sealed record AppHostSwitch(string Name, string Setting, string ValueName, string Description, AppHostSwitchType Type = AppHostSwitchType.Text)
{
    /// <summary>What a <see cref="AppHostSwitchType.Flag"/> sets its setting to.</summary>
    public string? FlagValue { get; init; }
}

public enum AppHostSwitchType
{
    Text,
    Integer,
    Size,
    /// <summary>Takes no value.</summary>
    Flag,
}

/// <summary>
/// Settings in increasing precedence: appsettings.json (section Dfs:AppHost) beside the AppHost,
/// environment (Dfs__AppHost__Nodes or DFS_APPHOST_NODES), then the command line.
/// </summary>
public static class AppHostConfiguration
{
    public const string EnvironmentPrefix = "DFS_APPHOST_";
    private const string SectionEnvironmentPrefix = "Dfs__AppHost__";

    public static IReadOnlyList<AppHostSwitch> Switches { get; } =
    [
        new("--state-dir", nameof(DfsAppHostOptions.StateDir), "DIR", "State folder: data of every resource, logs/, cluster.json. Default: $DFS_STATE_DIR, else ~/.local/share/dfs."),
        new("--nodes", nameof(DfsAppHostOptions.Nodes), "N", "Number of storage nodes (1-64). Default: 4.", AppHostSwitchType.Integer),
        new("--profile", nameof(DfsAppHostOptions.Profile), "auto|local|embedded|external", "local = our own PostgreSQL and RabbitMQ, the Replicator as a service; external = your servers (--metadata, --messaging); embedded = SQLite, the Replicator inside the gateway; auto = external when --metadata is given, else local when PostgreSQL and RabbitMQ are installed, else embedded. Default: auto."),
        new("--metadata", nameof(DfsAppHostOptions.MetadataConnectionString), "CONNECTION", "External profile: the metadata database, as an Npgsql connection string (\"Host=db;Port=5432;Database=dfs;Username=dfs;Password=…\")."),
        new("--messaging", nameof(DfsAppHostOptions.MessagingConnectionString), "AMQP-URI", "External profile: the RabbitMQ broker (amqp://user:password@host:5672/vhost). Without it the Replicator runs inside the gateway."),
        new("--dashboard-port", nameof(DfsAppHostOptions.DashboardPort), "P", "Dashboard port on 127.0.0.1; 0 = a free one. Default: 18888 (a free one when taken).", AppHostSwitchType.Integer),
        new("--no-dashboard", nameof(DfsAppHostOptions.Dashboard), "", "Do not serve the dashboard.", AppHostSwitchType.Flag) { FlagValue = "false" },
        new("--replication", nameof(DfsAppHostOptions.ReplicationFactor), "N", "Replicas per chunk (1-16). Default: 3.", AppHostSwitchType.Integer),
        new("--chunk-size", nameof(DfsAppHostOptions.ChunkSizeBytes), "BYTES", "Chunk size in bytes; K, M, G suffixes allowed (4K-1G). Default: 8M.", AppHostSwitchType.Size),
        new("--gateway-port", nameof(DfsAppHostOptions.GatewayPort), "P", "Gateway port on 127.0.0.1; 0 = a free one (kept from the last run when free). Default: 0.", AppHostSwitchType.Integer),
        new("--gateway-cert", nameof(DfsAppHostOptions.GatewayCertificatePath), "PATH", "Serve the gateway over HTTPS with this PKCS#12 certificate (.pfx/.p12, with its private key). The services, the dashboard and tests trust it by its thumbprint; other clients need it trusted by their system. Default: plain HTTP."),
        new("--gateway-cert-password", nameof(DfsAppHostOptions.GatewayCertificatePassword), "PASSWORD", "The password of --gateway-cert (prefer DFS_APPHOST_GATEWAY_CERTIFICATE_PASSWORD: a command line is visible to other users)."),
        new("--heartbeat-ms", nameof(DfsAppHostOptions.HeartbeatIntervalMs), "MS", "Storage node heartbeat interval. Default: 2000.", AppHostSwitchType.Integer),
        new("--node-dead-after-ms", nameof(DfsAppHostOptions.NodeDeadAfterMs), "MS", "A node without heartbeat this long is dead. Default: 15000.", AppHostSwitchType.Integer),
        new("--reconcile-ms", nameof(DfsAppHostOptions.ReplicatorReconcileIntervalMs), "MS", "How often the Replicator's reconciler looks for under-replicated chunks. Default: the Replicator's own.", AppHostSwitchType.Integer),
        new("--gc-grace-ms", nameof(DfsAppHostOptions.GcGraceMs), "MS", "How long the gateway keeps unreferenced chunks before deleting them. Default: the gateway's own.", AppHostSwitchType.Integer),
        new("--gc-interval-ms", nameof(DfsAppHostOptions.GcIntervalMs), "MS", "How often the gateway's chunk garbage collector runs. Default: the gateway's own.", AppHostSwitchType.Integer),
        new("--postgres-bin-dir", nameof(DfsAppHostOptions.PostgresBinDir), "DIR", "Folder with initdb and postgres. Default: the newest /usr/lib/postgresql/*/bin."),
        new("--configuration", nameof(DfsAppHostOptions.ServiceConfiguration), "Debug|Release", "Which build of the services to run. Default: the AppHost's own."),
    ];

    public static AppHostCommand Parse(IReadOnlyList<string> args, IDictionary? environment = null, string? baseDirectory = null)
    {
        var errors = new List<string>();
        var fromCommandLine = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var help = false;

        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?")
            {
                help = true;
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{arg}'.");
                continue;
            }
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg : arg[..eq];
            var option = Switches.FirstOrDefault(s => s.Name == name);
            if (option is null)
            {
                errors.Add($"unknown option '{name}'.");
                continue;
            }
            if (option.Type == AppHostSwitchType.Flag)
            {
                if (eq >= 0) errors.Add($"{name} takes no value.");
                else fromCommandLine[DfsAppHostOptions.SectionName + ":" + option.Setting] = option.FlagValue;
                continue;
            }
            string value;
            if (eq >= 0) value = arg[(eq + 1)..];
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            else
            {
                errors.Add($"{name} needs a value ({option.ValueName}).");
                continue;
            }
            if (Convert(option, value, out var converted, out var error)) fromCommandLine[DfsAppHostOptions.SectionName + ":" + option.Setting] = converted;
            else errors.Add(error);
        }

        if (help) return new AppHostCommand(null, true, []);
        if (errors.Count > 0) return new AppHostCommand(null, false, errors);

        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(baseDirectory ?? AppContext.BaseDirectory, "appsettings.json"), optional: true, reloadOnChange: false)
            .AddInMemoryCollection(FromEnvironment(environment ?? Environment.GetEnvironmentVariables()))
            .AddInMemoryCollection(fromCommandLine)
            .Build();

        var options = new DfsAppHostOptions();
        try
        {
            configuration.GetSection(DfsAppHostOptions.SectionName).Bind(options);
        }
        catch (InvalidOperationException e)
        {
            return new AppHostCommand(null, false, [e.Message]);
        }
        var invalid = options.Validate();
        return invalid.Count > 0 ? new AppHostCommand(null, false, invalid) : new AppHostCommand(options, false, []);
    }

    public static string HelpText()
    {
        var text = new StringBuilder();
        text.AppendLine("Dfs AppHost: runs PostgreSQL and RabbitMQ (local profile), the gateway, the storage nodes and the Replicator as child processes,");
        text.AppendLine("serves a dashboard (http://127.0.0.1:18888, login link with its token printed at start), writes STATE_DIR/cluster.json once");
        text.AppendLine("everything is healthy, restarts a resource that crashes (with backoff), and stops everything on Ctrl+C or SIGTERM.");
        text.AppendLine();
        text.AppendLine("Usage: dotnet run --project src/Dfs.AppHost -- [options]");
        text.AppendLine();
        text.AppendLine("Options:");
        foreach (var s in Switches)
        {
            text.AppendLine(s.ValueName.Length > 0 ? $"  {s.Name} {s.ValueName}" : $"  {s.Name}");
            text.AppendLine(CultureInfo.InvariantCulture, $"      {s.Description}");
        }
        text.AppendLine("  --help");
        text.AppendLine("      Show this text.");
        text.AppendLine();
        text.AppendLine("Each option is also a setting: in appsettings.json beside the AppHost under \"Dfs\": { \"AppHost\": { ... } },");
        text.AppendLine("or in the environment as Dfs__AppHost__SETTING or DFS_APPHOST_SETTING (the command line wins):");
        foreach (var s in Switches)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {s.Name,-22} {s.Setting,-30} {EnvironmentPrefix}{ScreamingSnake(s.Setting)}");
        text.AppendLine("Settings only: DashboardToken (fixed dashboard token, 16+ characters; default a new random one each run),");
        text.AppendLine("StartTimeout and StopGracePeriod (hh:mm:ss), ResourceEnvironment:RESOURCE:VARIABLE (extra");
        text.AppendLine("environment for one resource, e.g. Dfs__AppHost__ResourceEnvironment__gateway__Logging__LogLevel__Default=Debug).");
        text.AppendLine("DFS_APPHOST_VERBOSE=1 logs every state change; each resource's output is in STATE_DIR/logs/NAME.log.");
        text.AppendLine();
        text.AppendLine("Exit codes: 0 stopped normally, 1 a resource failed to start, 2 invalid options.");
        return text.ToString();
    }

    private static string ScreamingSnake(string pascal)
    {
        var text = new StringBuilder();
        foreach (var c in pascal)
        {
            if (char.IsUpper(c) && text.Length > 0) text.Append('_');
            text.Append(char.ToUpperInvariant(c));
        }
        return text.ToString();
    }

    /// <summary>Dfs__AppHost__X__Y and DFS_APPHOST_X__Y (underscores inside X ignored, so DFS_APPHOST_STATE_DIR works) as Dfs:AppHost:X:Y.</summary>
    private static Dictionary<string, string?> FromEnvironment(IDictionary environment)
    {
        var settings = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (DictionaryEntry entry in environment)
        {
            if (entry.Key is not string key || entry.Value is not string value) continue;
            if (key.StartsWith(SectionEnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                settings[DfsAppHostOptions.SectionName + ":" + key[SectionEnvironmentPrefix.Length..].Replace("__", ":", StringComparison.Ordinal)] = value;
            }
            else if (key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            {
                var parts = key[EnvironmentPrefix.Length..].Split("__");
                parts[0] = parts[0].Replace("_", "", StringComparison.Ordinal);
                settings[DfsAppHostOptions.SectionName + ":" + string.Join(':', parts)] = value;
            }
        }
        return settings;
    }

    private static bool Convert(AppHostSwitch option, string value, out string converted, out string error)
    {
        converted = value;
        error = "";
        switch (option.Type)
        {
            case AppHostSwitchType.Integer:
                if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                {
                    converted = number.ToString(CultureInfo.InvariantCulture);
                    return true;
                }
                error = $"{option.Name}: '{value}' is not a whole number.";
                return false;
            case AppHostSwitchType.Size:
                if (TryParseSize(value, out var bytes))
                {
                    converted = bytes.ToString(CultureInfo.InvariantCulture);
                    return true;
                }
                error = $"{option.Name}: '{value}' is not a size in bytes (like 8388608, 8M or 512K).";
                return false;
            default:
                if (value.Length > 0) return true;
                error = $"{option.Name} must not be empty.";
                return false;
        }
    }

    public static bool TryParseSize(string text, out long bytes)
    {
        bytes = 0;
        var s = text.Trim();
        long unit = 1;
        foreach (var (suffix, factor) in (ReadOnlySpan<(string, long)>)[("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("K", 1L << 10), ("M", 1L << 20), ("G", 1L << 30)])
        {
            if (!s.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            unit = factor;
            s = s[..^suffix.Length];
            break;
        }
        if (!long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value > long.MaxValue / unit) return false;
        bytes = value * unit;
        return true;
    }
}
