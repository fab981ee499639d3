using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Dfs.Chaos.Network;
using Dfs.Testing;

namespace Dfs.Chaos.Cluster;

/// <summary>
/// A storage node on its own host of the test network: the real Dfs.StorageNode process started in the host's network
/// namespace, bound to that host's address only, registering with the gateway at the bridge address, its data folder on a
/// tmpfs of its own (so that "disk full" fills this node's disk, not the machine's).
/// </summary>
public sealed class NamespacedNode : IAsyncDisposable
{
    public const int Port = 7100;
    private const long DiskBytes = 512L * 1024 * 1024;

    private static readonly string Dll = typeof(NamespacedNode).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "DfsStorageNodeDll").Value!;

    private readonly ChaosNetwork _network;
    private readonly IReadOnlyDictionary<string, string> _environment;
    private readonly StreamWriter _log;
    private readonly Lock _logLock = new();
    private Process? _process;

    public NamespacedNode(int host, ChaosNetwork network, string stateDirectory, IReadOnlyDictionary<string, string> clusterEnvironment)
    {
        Host = host;
        _network = network;
        Name = "node-" + host.ToString(CultureInfo.InvariantCulture);
        DataDir = Path.Combine(stateDirectory, "chaos-nodes", Name);
        Directory.CreateDirectory(DataDir);
        ChaosNetwork.Run("mount", ["-t", "tmpfs", "-o", $"size={DiskBytes}", "tmpfs", DataDir]);
        Url = new Uri($"http://{network.HostAddressOf(host)}:{Port.ToString(CultureInfo.InvariantCulture)}");
        _environment = new Dictionary<string, string>(clusterEnvironment)
        {
            ["ASPNETCORE_URLS"] = Url.ToString().TrimEnd('/'),
            ["Dfs__StorageNode__Name"] = Name,
            ["Dfs__StorageNode__DataDir"] = DataDir,
            ["Dfs__StorageNode__ReserveBytes"] = (16L * 1024 * 1024).ToString(CultureInfo.InvariantCulture),
        };
        Directory.CreateDirectory(Path.Combine(stateDirectory, "logs"));
        _log = new StreamWriter(Path.Combine(stateDirectory, "logs", Name + ".log"), append: true) { AutoFlush = true };
    }

    public int Host { get; }
    public string Name { get; }
    public string DataDir { get; }
    public Uri Url { get; }
    public bool IsRunning => _process is { HasExited: false };
    public int? ProcessId => IsRunning ? _process!.Id : null;

    public void Start()
    {
        if (IsRunning) return;
        // `ip netns exec` enters the namespace and execs: the process started is the node itself.
        var start = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "netns", "exec", _network.Namespace(Host), "dotnet", Dll }) start.ArgumentList.Add(arg);
        foreach (var (key, value) in _environment) start.Environment[key] = value;
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Log(e.Data);
        process.ErrorDataReceived += (_, e) => Log(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        Log($"--- chaos: started pid {process.Id}");
    }

    public async Task WaitHealthyAsync(HttpClient http, TimeSpan limit, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            if (_process is { HasExited: true } exited)
                throw new ChaosSetupException($"{Name} exited with {exited.ExitCode} while starting; see logs/{Name}.log in the state folder.");
            try
            {
                using var response = await http.GetAsync(new Uri(Url, "/health"), ct);
                if (response.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            await Task.Delay(200, ct);
        }
        throw new ChaosSetupException($"{Name} is not healthy after {limit.TotalSeconds} s.");
    }

    public async Task KillAsync()
    {
        if (_process is not { HasExited: false } process) return;
        Procs.TrySignal(process.Id, Procs.SigCont);   // a stopped process dies only once continued
        process.Kill();
        await process.WaitForExitAsync();
        Log("--- chaos: killed");
    }

    public void Pause()
    {
        if (_process is { HasExited: false } process) Procs.TrySignal(process.Id, Procs.SigStop);
    }

    public void Resume()
    {
        if (_process is { HasExited: false } process) Procs.TrySignal(process.Id, Procs.SigCont);
    }

    /// <summary>Takes all but a few KiB of the node's disk: its writes then fail with ENOSPC or its reserve refuses them.</summary>
    public void FillDisk()
    {
        // Chunks land while this measures: a filler that no longer fits is asked again, for what is free then.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var free = new DriveInfo(DataDir).AvailableFreeSpace;
            if (free <= 1024 * 1024) return;
            var filler = Path.Combine(DataDir, $"chaos-filler-{attempt.ToString(CultureInfo.InvariantCulture)}");
            try
            {
                ChaosNetwork.Run("fallocate", ["-l", (free - 64 * 1024).ToString(CultureInfo.InvariantCulture), filler]);
                return;
            }
            catch (ChaosSetupException) when (attempt < 4)
            {
                File.Delete(filler);
            }
        }
    }

    public void FreeDisk()
    {
        foreach (var filler in Directory.EnumerateFiles(DataDir, "chaos-filler-*")) File.Delete(filler);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        ChaosNetwork.TryRun("umount", ["-l", DataDir]);
        lock (_logLock) _log.Dispose();
    }

    private void Log(string? line)
    {
        if (line is null) return;
        lock (_logLock)
        {
            try { _log.WriteLine(line); }
            catch (ObjectDisposedException) { }
        }
    }
}
