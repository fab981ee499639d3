using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Dfs.Replicator.Tests.Infrastructure;

/// <summary>A Dfs service run as the AppHost runs it: its own process, configured through the environment, on a loopback port.</summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private static readonly HttpClient Probe = new() { Timeout = TimeSpan.FromSeconds(2) };

    /// <summary>Dfs__Cluster__Secret of every service these tests start (and what the fake gateway checks).</summary>
    public const string ClusterSecret = "replicator-tests-cluster-secret-0123456789";

    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServiceProcess(Process process, Uri url)
    {
        _process = process;
        Url = url;
    }

    /// <summary>The base address, with a trailing slash.</summary>
    public Uri Url { get; }

    public bool HasExited => _process.HasExited;

    public string Output
    {
        get { lock (_output) return _output.ToString(); }
    }

    /// <summary>Starts the service on a free port and waits until /health answers 200. Retries on a lost port race.</summary>
    public static async Task<ServiceProcess> StartAsync(string dll, IReadOnlyDictionary<string, string> environment, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            var service = Start(dll, FreePort(), environment);
            try
            {
                await service.WaitHealthyAsync(TimeSpan.FromSeconds(60), ct);
                return service;
            }
            catch (Exception) when (attempt < 3 && service.HasExited && LostPortRace(service.Output))
            {
                await service.DisposeAsync();
            }
            catch
            {
                await service.DisposeAsync();
                throw;
            }
        }
    }

    private static ServiceProcess Start(string dll, int port, IReadOnlyDictionary<string, string> environment)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(dll)!,
        };
        info.ArgumentList.Add(dll);
        var url = $"http://127.0.0.1:{port}";
        info.Environment["ASPNETCORE_URLS"] = url;
        // The service's watchdog stops it if this test process dies without cleaning up.
        info.Environment["DFS_PARENT_PID"] = Environment.ProcessId.ToString();
        info.Environment["DOTNET_ENVIRONMENT"] = "Development";
        info.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        info.Environment["Dfs__Cluster__Secret"] = ClusterSecret;
        foreach (var (key, value) in environment) info.Environment[key] = value;

        var process = new Process { StartInfo = info };
        var service = new ServiceProcess(process, new Uri(url + "/"));
        process.OutputDataReceived += (_, e) => service.Append(e.Data);
        process.ErrorDataReceived += (_, e) => service.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return service;
    }

    private async Task WaitHealthyAsync(TimeSpan timeout, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"{Path.GetFileName(_process.StartInfo.ArgumentList[0])} exited with {_process.ExitCode}:\n{Output}");
            try
            {
                using var response = await Probe.GetAsync(new Uri(Url, "health"), ct);
                if (response.StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
            }
            await Task.Delay(100, ct);
        }
        throw new TimeoutException($"{Url} was not healthy within {timeout}:\n{Output}");
    }

    /// <summary>Another process took the free port between our probe and the service binding it.</summary>
    private static bool LostPortRace(string output) => output.Contains("address already in use", StringComparison.OrdinalIgnoreCase);

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>Kills the process (a crash, not a shutdown) and waits for it to be gone.</summary>
    public async Task KillAsync()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(cts.Token);
        }
        catch (InvalidOperationException)
        {
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        _process.Dispose();
    }
}
