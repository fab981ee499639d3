using System.Globalization;
using System.Text;

namespace Dfs.AppHost.Settings;

/// <summary>One command-line switch and the setting (under Dfs:AppHost) it sets.</summary>
public sealed record DfsSwitch(string Name, string Setting, string ValueName, string Description, DfsSwitchType Type = DfsSwitchType.Text)
{
    /// <summary>What a <see cref="DfsSwitchType.Flag"/> sets its setting to.</summary>
    public string? FlagValue { get; init; }
}

public enum DfsSwitchType
{
    Text,
    Integer,
    Size,
    /// <summary>Takes no value.</summary>
    Flag,
}

/// <summary>The outcome of reading the command line: Aspire's arguments, or help, or the errors to print.</summary>
public sealed record DfsCommandLineResult(IReadOnlyList<string> AspireArgs, bool ShowHelp, IReadOnlyList<string> Errors);

/// <summary>
/// The AppHost's switches (--nodes 4, --chunk-size 8M) as configuration: each becomes --Dfs:AppHost:SETTING=VALUE for
/// Aspire's builder, whose configuration also reads appsettings.json and Dfs__AppHost__SETTING from the environment; a
/// switch wins over both. Aspire's own arguments (--publisher manifest --output-path …) pass through unchanged.
/// </summary>
public static class DfsCommandLine
{
    public static IReadOnlyList<DfsSwitch> Switches { get; } =
    [
        new("--state-dir", nameof(DfsAppHostOptions.StateDir), "DIR", "State folder: the data of every resource and cluster.json. Default: $DFS_STATE_DIR, else ~/.local/share/dfs."),
        new("--nodes", nameof(DfsAppHostOptions.Nodes), "N", "Storage nodes started with the cluster (0-64; 0 when nodes run on other hosts). Default: 4.", DfsSwitchType.Integer),
        new("--spare-nodes", nameof(DfsAppHostOptions.SpareNodes), "N", "Storage nodes declared but not started (0-16); the dashboard's \"Add storage node\" starts one. Default: 2.", DfsSwitchType.Integer),
        new("--profile", nameof(DfsAppHostOptions.Profile), "auto|local|embedded|external", "local = PostgreSQL, RabbitMQ and Redis from this machine's packages; external = your servers (--metadata, --messaging, --cache); embedded = SQLite, an in-process bus with the Replicator inside the gateway, in-process caches; auto = external when --metadata is given, else local when the three servers are installed, else embedded. Default: auto."),
        new("--metadata", nameof(DfsAppHostOptions.MetadataConnectionString), "CONNECTION", "External profile: the metadata database, as an Npgsql connection string (\"Host=db;Port=5432;Database=dfs;Username=dfs;Password=…\")."),
        new("--messaging", nameof(DfsAppHostOptions.MessagingConnectionString), "AMQP-URI", "External profile: the RabbitMQ broker (amqp://user:password@host:5672/vhost). Without it the Replicator runs inside the gateway."),
        new("--cache", nameof(DfsAppHostOptions.CacheConnectionString), "REDIS", "External profile: Redis (host:port[,password=…]). Without it each gateway caches in its own memory."),
        new("--gateways", nameof(DfsAppHostOptions.Gateways), "G", "Gateway processes side by side (1-8): gateway, gateway-2, …; the services use them all, and clients may use any. G > 1 needs Redis (local profile, or --cache). Default: 1.", DfsSwitchType.Integer),
        new("--replication", nameof(DfsAppHostOptions.ReplicationFactor), "N", "Replicas per chunk (1-16). Default: 3.", DfsSwitchType.Integer),
        new("--chunk-size", nameof(DfsAppHostOptions.ChunkSizeBytes), "BYTES", "Chunk size in bytes; K, M suffixes allowed (4K-64M). Default: 8M.", DfsSwitchType.Size),
        new("--gateway-port", nameof(DfsAppHostOptions.GatewayPort), "P", "Gateway port on 127.0.0.1; 0 = a free one. Default: 0.", DfsSwitchType.Integer),
        new("--gateway-cert", nameof(DfsAppHostOptions.GatewayCertificatePath), "PATH", "Serve the gateway over HTTPS with this PKCS#12 certificate (.pfx/.p12, with its private key). The services and tests trust it by its thumbprint; other clients need it trusted by their system. Default: plain HTTP."),
        new("--gateway-cert-password", nameof(DfsAppHostOptions.GatewayCertificatePassword), "PASSWORD", "The password of --gateway-cert (prefer Dfs__AppHost__GatewayCertificatePassword: a command line is visible to other users)."),
        new("--heartbeat-ms", nameof(DfsAppHostOptions.HeartbeatIntervalMs), "MS", "Storage node heartbeat interval (50-60000). Default: 2000.", DfsSwitchType.Integer),
        new("--node-dead-after-ms", nameof(DfsAppHostOptions.NodeDeadAfterMs), "MS", "A node without heartbeat this long is dead (longer than the heartbeat). Default: 15000.", DfsSwitchType.Integer),
        new("--reconcile-ms", nameof(DfsAppHostOptions.ReplicatorReconcileIntervalMs), "MS", "How often the Replicator's reconciler looks for under-replicated chunks. Default: the Replicator's own (30000).", DfsSwitchType.Integer),
        new("--gc-grace-ms", nameof(DfsAppHostOptions.GcGraceMs), "MS", "How long the gateway keeps unreferenced chunks before deleting them. Default: the gateway's own (1 hour).", DfsSwitchType.Integer),
        new("--gc-interval-ms", nameof(DfsAppHostOptions.GcIntervalMs), "MS", "How often the gateway's chunk garbage collector runs. Default: the gateway's own (60000).", DfsSwitchType.Integer),
        new("--postgres-bin-dir", nameof(DfsAppHostOptions.PostgresBinDir), "DIR", "Folder with initdb and postgres. Default: the newest /usr/lib/postgresql/*/bin."),
        new("--dashboard-port", nameof(DfsAppHostOptions.DashboardPort), "P", "The Aspire dashboard's port on 127.0.0.1; 0 = a free one. Default: 18888 (a free one when taken).", DfsSwitchType.Integer),
        new("--dashboard-api-key", nameof(DfsAppHostOptions.DashboardApiKey), "KEY", "The key (header x-api-key, at least 16 characters) that reads the dashboard's telemetry API, /api/telemetry/{resources,traces,logs} (prefer Dfs__AppHost__DashboardApiKey: a command line is visible to other users). Default: a new key each run."),
        new("--no-dashboard", nameof(DfsAppHostOptions.Dashboard), "", "Do not run the Aspire dashboard.", DfsSwitchType.Flag) { FlagValue = "false" },
        new("--no-restart", nameof(DfsAppHostOptions.RestartCrashed), "", "Leave a crashed service or server stopped instead of restarting it with backoff.", DfsSwitchType.Flag) { FlagValue = "false" },
    ];

    /// <summary>Aspire's own switches that take a value (they are passed through).</summary>
    private static readonly HashSet<string> AspireSwitches = new(StringComparer.OrdinalIgnoreCase)
    {
        "--publisher", "--output-path", "--operation", "--step", "--environment", "--log-level", "--deployment-state-path",
    };

    public const int InvalidOptions = 2;

    public static int PrintHelp()
    {
        Console.Out.Write(HelpText());
        return 0;
    }

    public static int PrintErrors(IEnumerable<string> errors)
    {
        foreach (var error in errors) Console.Error.WriteLine("error: " + error);
        Console.Error.WriteLine("Run with --help to see the options.");
        return InvalidOptions;
    }

    /// <summary>
    /// Aspire's options for this command line: the dashboard on 127.0.0.1 (--dashboard-port, a free port when taken) over
    /// plain HTTP (there is no development certificate here), or none with --no-dashboard. What the environment already
    /// sets (ASPNETCORE_URLS, ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL) wins.
    /// </summary>
    public static DistributedApplicationOptions AspireOptions(DfsCommandLineResult commandLine)
    {
        string? Setting(string name) =>
            commandLine.AspireArgs.Select(a => a.Split('=', 2)).FirstOrDefault(p => p.Length == 2 && p[0] == $"--{DfsAppHostOptions.SectionName}:{name}")?[1]
            ?? Environment.GetEnvironmentVariable("Dfs__AppHost__" + name);
        var dashboard = !string.Equals(Setting(nameof(DfsAppHostOptions.Dashboard)), "false", StringComparison.OrdinalIgnoreCase);
        var args = new List<string>(commandLine.AspireArgs);
        if (dashboard)
        {
            if (Environment.GetEnvironmentVariable("ASPNETCORE_URLS") is null)
            {
                var wanted = int.TryParse(Setting(nameof(DfsAppHostOptions.DashboardPort)), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 18888;
                args.Add("--ASPNETCORE_URLS=http://127.0.0.1:" + FreePort(wanted).ToString(CultureInfo.InvariantCulture));
            }
            if (Environment.GetEnvironmentVariable("ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL") is null && Environment.GetEnvironmentVariable("DOTNET_DASHBOARD_OTLP_ENDPOINT_URL") is null)
                args.Add("--ASPIRE_DASHBOARD_OTLP_ENDPOINT_URL=http://127.0.0.1:" + FreePort(0).ToString(CultureInfo.InvariantCulture));
            args.Add("--ASPIRE_ALLOW_UNSECURED_TRANSPORT=true");
        }
        return new DistributedApplicationOptions { Args = [.. args], DisableDashboard = !dashboard };
    }

    /// <summary><paramref name="wanted"/> when it is free on 127.0.0.1, else a free port.</summary>
    private static int FreePort(int wanted)
    {
        foreach (var port in wanted > 0 ? [wanted, 0] : (int[])[0])
        {
            try
            {
                using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, port);
                listener.Start();
                return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
            }
            catch (System.Net.Sockets.SocketException) when (port != 0)
            {
            }
        }
        throw new InvalidOperationException("No free port on 127.0.0.1.");
    }

    public static DfsCommandLineResult Parse(IReadOnlyList<string> args)
    {
        var errors = new List<string>();
        var aspire = new List<string>();
        var help = false;
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            if (arg is "--help" or "-h" or "-?")
            {
                help = true;
                continue;
            }
            var eq = arg.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? arg : arg[..eq];
            // Configuration written as Aspire takes it (--Dfs:AppHost:Nodes=3, --Parameters:admin-password=…) and Aspire's own switches.
            if (name.Contains(':', StringComparison.Ordinal) || AspireSwitches.Contains(name))
            {
                aspire.Add(arg);
                if (eq < 0 && AspireSwitches.Contains(name) && i + 1 < args.Count) aspire.Add(args[++i]);
                continue;
            }
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                errors.Add($"unexpected argument '{arg}'.");
                continue;
            }
            var option = Switches.FirstOrDefault(s => s.Name == name);
            if (option is null)
            {
                errors.Add($"unknown option '{name}'.");
                continue;
            }
            string value;
            if (option.Type == DfsSwitchType.Flag)
            {
                if (eq >= 0)
                {
                    errors.Add($"{name} takes no value.");
                    continue;
                }
                value = option.FlagValue!;
            }
            else if (eq >= 0) value = arg[(eq + 1)..];
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal)) value = args[++i];
            else
            {
                errors.Add($"{name} needs a value ({option.ValueName}).");
                continue;
            }
            if (Convert(option, value, out var converted, out var error)) aspire.Add($"--{DfsAppHostOptions.SectionName}:{option.Setting}={converted}");
            else errors.Add(error);
        }
        return new DfsCommandLineResult(aspire, help, errors);
    }

    public static string HelpText()
    {
        var text = new StringBuilder();
        text.AppendLine("Dfs AppHost (.NET Aspire): runs the cluster (metadata, messaging, cache, gateway, node-1..N, replicator) with the");
        text.AppendLine("Aspire dashboard, writes STATE_DIR/cluster.json once the gateway is healthy, restarts a crashed resource with");
        text.AppendLine("backoff, and stops everything on Ctrl+C or SIGTERM.");
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
        text.AppendLine("Each option is also a setting under \"Dfs\": { \"AppHost\": { ... } } in src/Dfs.AppHost/appsettings.json, or in the");
        text.AppendLine("environment as Dfs__AppHost__SETTING (the command line wins):");
        foreach (var s in Switches)
            text.AppendLine(CultureInfo.InvariantCulture, $"  {s.Name,-24} Dfs__AppHost__{s.Setting}");
        text.AppendLine("Settings only: DrainTimeout (hh:mm:ss) and ResourceEnvironment:RESOURCE:VARIABLE (extra environment for one");
        text.AppendLine("resource, e.g. Dfs__AppHost__ResourceEnvironment__gateway__Logging__LogLevel__Default=Debug).");
        text.AppendLine("The first admin's password is the secret parameter admin-password (Parameters:admin-password); unset, it is");
        text.AppendLine("generated once and kept owner-only in STATE_DIR/gateway/admin-password, where `dfs login` finds it.");
        text.AppendLine();
        text.AppendLine("Exit codes: 0 stopped normally, 2 invalid options.");
        return text.ToString();
    }

    private static bool Convert(DfsSwitch option, string value, out string converted, out string error)
    {
        converted = value;
        error = "";
        switch (option.Type)
        {
            case DfsSwitchType.Integer:
                if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number))
                {
                    converted = number.ToString(CultureInfo.InvariantCulture);
                    return true;
                }
                error = $"{option.Name}: '{value}' is not a whole number.";
                return false;
            case DfsSwitchType.Size:
                if (TryParseSize(value, out var bytes))
                {
                    converted = bytes.ToString(CultureInfo.InvariantCulture);
                    return true;
                }
                error = $"{option.Name}: '{value}' is not a size in bytes (like 8388608, 8M or 512K).";
                return false;
            case DfsSwitchType.Flag:
                return true;
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
