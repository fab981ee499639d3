using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Dfs.Bench.Baselines;

/// <summary>
/// nginx from Debian's package as the reference server: started by us on loopback with a generated
/// configuration (sendfile for GET, WebDAV PUT, JSON autoindex for listings), every path inside a temp
/// prefix, stopped at the end, on Ctrl+C and when the process exits.
/// </summary>
public sealed class NginxServer : IAsyncDisposable
{
    private const int SigTerm = 15;
    private static readonly string[] Candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];

    private readonly Process _process;
    private readonly List<string> _output = [];
    private bool _stopped;

    private NginxServer(Process process, string prefix, int port, string version)
    {
        _process = process;
        Prefix = prefix;
        Root = Path.Combine(prefix, "www");
        BaseUrl = new Uri($"http://127.0.0.1:{port}/");
        Version = version;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public Uri BaseUrl { get; }

    /// <summary>The document root: what nginx serves and where its PUTs land.</summary>
    public string Root { get; }

    public string Prefix { get; }
    public string Version { get; }
    public int Pid => _process.Id;

    /// <summary>How to get nginx when it is missing.</summary>
    public const string InstallHint = "install it with: apt-get install -y nginx (Debian's package has the WebDAV module)";

    /// <summary>Finds nginx and checks it can do what the baselines need; returns why not when it cannot.</summary>
    public static async Task<(string? Binary, string? Version, string? Problem)> ProbeAsync(CancellationToken ct)
    {
        var binary = Candidates.FirstOrDefault(File.Exists)
            ?? (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
                .Select(d => Path.Combine(d, "nginx")).FirstOrDefault(File.Exists);
        if (binary is null) return (null, null, $"nginx is not installed; {InstallHint}.");

        var info = new ProcessStartInfo(binary, "-V") { RedirectStandardError = true, RedirectStandardOutput = true };
        using var process = Process.Start(info)!;
        var stderr = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        var version = stderr.Split('\n').FirstOrDefault(l => l.StartsWith("nginx version:", StringComparison.Ordinal))?["nginx version:".Length..].Trim() ?? "nginx";
        if (!stderr.Contains("http_dav_module", StringComparison.Ordinal))
            return (null, version, $"{binary} ({version}) was built without http_dav_module, needed for the PUT baselines; {InstallHint}.");
        return (binary, version, null);
    }

    public static async Task<NginxServer> StartAsync(string binary, string version, string workDirectory, CancellationToken ct)
    {
        var prefix = Path.Combine(workDirectory, "nginx");
        foreach (var dir in new[] { "www", "logs", "client_body_temp", "proxy_temp", "fastcgi_temp", "uwsgi_temp", "scgi_temp" })
            Directory.CreateDirectory(Path.Combine(prefix, dir));
        var port = FreePort();
        var config = Path.Combine(prefix, "nginx.conf");
        await File.WriteAllTextAsync(config, Configuration(prefix, port), ct);

        var info = new ProcessStartInfo(binary)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-p", prefix + "/", "-c", config, "-e", Path.Combine(prefix, "logs", "error.log") }) info.ArgumentList.Add(arg);
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {binary}.");
        var server = new NginxServer(process, prefix, port, version);
        process.ErrorDataReceived += (_, e) => server.Remember(e.Data);
        process.OutputDataReceived += (_, e) => server.Remember(e.Data);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();

        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (process.HasExited)
            {
                await server.DisposeAsync();
                throw new InvalidOperationException($"nginx exited at start (code {process.ExitCode}): {server.Output()} {ErrorLog(prefix)}");
            }
            if (await CanConnectAsync(port, ct)) return server;
            if (deadline.Elapsed > TimeSpan.FromSeconds(15))
            {
                await server.DisposeAsync();
                throw new TimeoutException($"nginx did not listen on 127.0.0.1:{port} within 15 s: {server.Output()} {ErrorLog(prefix)}");
            }
            await Task.Delay(50, ct);
        }
    }

    /// <summary>
    /// One worker per core like a production nginx; sendfile for GET, WebDAV PUT with bodies spooled to a temp
    /// folder on the same disk, no access log (Dfs's gateway does not log each request either).
    /// </summary>
    private static string Configuration(string prefix, int port)
    {
        // As root, the workers would otherwise switch to "nobody" and could not write into our root-owned prefix.
        var user = geteuid() == 0 ? "user root root;\n" : "";
        return $$"""
            {{user}}daemon off;
            master_process on;
            worker_processes auto;
            pid {{prefix}}/nginx.pid;
            error_log {{prefix}}/logs/error.log warn;
            events { worker_connections 4096; }
            http {
                access_log off;
                sendfile on;
                tcp_nopush on;
                tcp_nodelay on;
                keepalive_timeout 120s;
                keepalive_requests 1000000;
                default_type application/octet-stream;
                client_body_temp_path {{prefix}}/client_body_temp;
                proxy_temp_path {{prefix}}/proxy_temp;
                fastcgi_temp_path {{prefix}}/fastcgi_temp;
                uwsgi_temp_path {{prefix}}/uwsgi_temp;
                scgi_temp_path {{prefix}}/scgi_temp;
                server {
                    listen 127.0.0.1:{{port}};
                    root {{prefix}}/www;
                    location / {
                        dav_methods PUT DELETE;
                        create_full_put_path on;
                        dav_access user:rw group:r all:r;
                        client_max_body_size 0;
                        autoindex on;
                        autoindex_format json;
                    }
                }
            }
            """;
    }

    private void Remember(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            _output.Add(line);
            if (_output.Count > 50) _output.RemoveAt(0);
        }
    }

    private string Output()
    {
        lock (_output) return string.Join(" | ", _output);
    }

    private static string ErrorLog(string prefix)
    {
        try { return string.Join(" | ", File.ReadLines(Path.Combine(prefix, "logs", "error.log")).TakeLast(5)); }
        catch (IOException) { return ""; }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<bool> CanConnectAsync(int port, CancellationToken ct)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port, ct);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Fast shutdown (SIGTERM to the master, which stops its workers); the whole tree is killed if it lingers.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_stopped) return;
        _stopped = true;
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            if (!_process.HasExited)
            {
                _ = kill(_process.Id, SigTerm);
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                try { await _process.WaitForExitAsync(wait.Token); }
                catch (OperationCanceledException) { _process.Kill(entireProcessTree: true); }
            }
        }
        catch (InvalidOperationException) { }
        finally
        {
            _process.Dispose();
        }
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    [DllImport("libc")]
    private static extern uint geteuid();
}
