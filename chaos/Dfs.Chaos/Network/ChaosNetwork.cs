using System.Diagnostics;
using System.Globalization;

namespace Dfs.Chaos.Network;

/// <summary>
/// A private test network on this machine: a bridge in the root namespace (the host side, where the servers, the gateway
/// and the Replicator run) and one network namespace per storage node, each joined to the bridge by a veth pair with its
/// own address. Nothing is routed beyond the bridge: traffic stays between the namespaces this run made, and all of
/// them are removed at the end. Faults act inside a node's namespace (link down, nftables drops, a tbf rate limit).
/// </summary>
public sealed class ChaosNetwork : IDisposable
{
    private readonly string _tag;
    private readonly List<string> _namespaces = [];
    private readonly int _subnet;

    private ChaosNetwork(string tag, int subnet)
    {
        _tag = tag;
        _subnet = subnet;
    }

    public string Bridge => $"dfsc{_tag}br";

    /// <summary>The host's address on the test network: where the nodes reach the gateway.</summary>
    public string HostAddress => Address(1);

    /// <summary>Names and subnet are drawn afresh (not from the run's seed): two runs of one seed may share the machine.</summary>
    public static ChaosNetwork Create(int hosts)
    {
        var random = Random.Shared;
        if (Environment.UserName != "root" && !IsRoot())
            throw new ChaosSetupException("The chaos run creates network namespaces and mounts: it must run as root.");
        // A short random tag keeps interface names under Linux's 15 characters and apart from another run's.
        var network = new ChaosNetwork(random.Next(0x1000, 0xFFFF).ToString("x4", CultureInfo.InvariantCulture), random.Next(2, 250));
        try
        {
            Ip("link", "add", network.Bridge, "type", "bridge");
            Ip("addr", "add", $"{network.HostAddress}/24", "dev", network.Bridge);
            Ip("link", "set", network.Bridge, "up");
            for (var i = 1; i <= hosts; i++) network.AddHost(i);
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    public string Namespace(int host) => $"dfsc{_tag}-h{host}";

    /// <summary>Host 1..N's address: .11, .12, …</summary>
    public string HostAddressOf(int host) => Address(10 + host);

    public void LinkDown(int host) => Ip("-n", Namespace(host), "link", "set", "eth0", "down");

    public void LinkUp(int host) => Ip("-n", Namespace(host), "link", "set", "eth0", "up");

    /// <summary>nftables rules in the host's namespace dropping what arrives (inbound), what leaves (outbound), or both.</summary>
    public void Drop(int host, bool inbound, bool outbound)
    {
        var ns = Namespace(host);
        var script = "table inet chaos {\n";
        if (inbound) script += "  chain input { type filter hook input priority 0; policy accept; iifname \"eth0\" drop; }\n";
        if (outbound) script += "  chain output { type filter hook output priority 0; policy accept; oifname \"eth0\" drop; }\n";
        script += "}\n";
        Run("ip", ["netns", "exec", ns, "nft", "-f", "-"], script);
    }

    public void ClearDrops(int host) => TryRun("ip", ["netns", "exec", Namespace(host), "nft", "delete", "table", "inet", "chaos"]);

    /// <summary>A token bucket on both ends of the host's link: its traffic crawls at <paramref name="kbit"/> each way.</summary>
    public void Slow(int host, int kbit)
    {
        string[] shape = ["root", "tbf", "rate", $"{kbit}kbit", "burst", "16kbit", "latency", "500ms"];
        Run("tc", ["-n", Namespace(host), "qdisc", "replace", "dev", "eth0", .. shape]);
        Run("tc", ["qdisc", "replace", "dev", HostSide(host), .. shape]);
    }

    public void ClearSlow(int host)
    {
        TryRun("tc", ["-n", Namespace(host), "qdisc", "del", "dev", "eth0", "root"]);
        TryRun("tc", ["qdisc", "del", "dev", HostSide(host), "root"]);
    }

    /// <summary>Every fault off: links up, no drops, no shaping.</summary>
    public void Heal(int host)
    {
        ClearDrops(host);
        ClearSlow(host);
        TryRun("ip", ["-n", Namespace(host), "link", "set", "eth0", "up"]);
    }

    public void Dispose()
    {
        foreach (var ns in _namespaces) TryRun("ip", ["netns", "del", ns]);
        TryRun("ip", ["link", "del", Bridge]);
    }

    private string Address(int last) => $"10.213.{_subnet.ToString(CultureInfo.InvariantCulture)}.{last.ToString(CultureInfo.InvariantCulture)}";

    private string HostSide(int host) => $"dfsc{_tag}v{host.ToString(CultureInfo.InvariantCulture)}";

    private void AddHost(int host)
    {
        var ns = Namespace(host);
        Ip("netns", "add", ns);
        _namespaces.Add(ns);
        Ip("link", "add", HostSide(host), "type", "veth", "peer", "name", "eth0", "netns", ns);
        Ip("link", "set", HostSide(host), "master", Bridge, "up");
        Ip("-n", ns, "addr", "add", $"{HostAddressOf(host)}/24", "dev", "eth0");
        Ip("-n", ns, "link", "set", "eth0", "up");
        Ip("-n", ns, "link", "set", "lo", "up");
    }

    private static void Ip(params string[] args) => Run("ip", args);

    private static bool IsRoot() => File.ReadAllLines("/proc/self/status").Any(l => l.StartsWith("Uid:", StringComparison.Ordinal) && l.Split('\t', StringSplitOptions.RemoveEmptyEntries)[1] == "0");

    public static void Run(string command, IReadOnlyList<string> args, string? input = null)
    {
        var (code, error) = Exec(command, args, input);
        if (code != 0) throw new ChaosSetupException($"{command} {string.Join(' ', args)} failed ({code}): {error.Trim()}");
    }

    public static void TryRun(string command, IReadOnlyList<string> args) => Exec(command, args, null);

    private static (int Code, string Error) Exec(string command, IReadOnlyList<string> args, string? input)
    {
        var start = new ProcessStartInfo(command) { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = input is not null };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new ChaosSetupException($"Could not start {command}.");
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }
        var error = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, error);
    }
}

/// <summary>The run could not be set up (not root, a tool missing): not a finding about Dfs.</summary>
public sealed class ChaosSetupException(string message) : Exception(message);
