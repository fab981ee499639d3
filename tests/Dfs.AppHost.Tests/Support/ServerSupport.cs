using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Dfs.Testing;

namespace Dfs.AppHost.Tests.Support;

/// <summary>What the server tests share: a resource's process, free ports, a foreign process started by hand, Redis's protocol.</summary>
public static class ServerSupport
{
    /// <summary>The pid DCP started for the resource (setpriv execs in place: the server's own).</summary>
    public static int Pid(DistributedApplication app, string resource)
    {
        Assert.True(app.ResourceNotifications.TryGetCurrentState(resource, out var e), $"no resource {resource}");
        return e.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int value => value,
            long value => (int)value,
            string text when int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) => value,
            var other => throw new InvalidOperationException($"{resource} has no pid ({other})."),
        };
    }

    public static int Pid(DfsServer server) => Pid(server.App, server.Resource.Name);

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A process started by hand, outside any AppHost (what a killed AppHost leaves behind): in its own session, as
    /// <paramref name="user"/> when we are root. Killed with its session on dispose if still there.
    /// </summary>
    public sealed class Foreign : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();

        public Foreign(string program, IEnumerable<string> args, string? user, IReadOnlyList<string>? environment = null, string? workingDirectory = null)
        {
            var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
            if (user is not null && Environment.IsPrivilegedProcess)
                foreach (var arg in (string[])["/usr/bin/setpriv", $"--reuid={user}", $"--regid={user}", "--init-groups", "--"]) psi.ArgumentList.Add(arg);
            psi.ArgumentList.Add(program);
            foreach (var arg in args) psi.ArgumentList.Add(arg);
            if (environment is not null)
            {
                psi.Environment.Clear();
                foreach (var entry in environment)
                {
                    var eq = entry.IndexOf('=', StringComparison.Ordinal);
                    if (eq > 0) psi.Environment[entry[..eq]] = entry[(eq + 1)..];
                }
            }
            if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
            _process = Process.Start(psi)!;
            _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public int Pid => _process.Id;

        public bool HasExited => _process.HasExited;

        public string Output { get { lock (_output) return _output.ToString(); } }

        public void Dispose()
        {
            // setsid execs in place: the pid leads its own session; take whatever it started along.
            foreach (var pid in Procs.WithDescendants(_process.Id)) Procs.TrySignal(pid, Procs.SigKill);
            _process.WaitForExit(TimeSpan.FromSeconds(10));
            _process.Dispose();
        }
    }

    /// <summary>One Redis command over its protocol (RESP), its reply as text: "+PONG", "$5\r\nvalue", "$-1" for none.</summary>
    public static async Task<string> RedisAsync(int port, CancellationToken ct, params string[] command)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port, ct);
        var request = new StringBuilder().Append('*').Append(command.Length).Append("\r\n");
        foreach (var part in command) request.Append('$').Append(Encoding.UTF8.GetByteCount(part)).Append("\r\n").Append(part).Append("\r\n");
        await socket.SendAsync(Encoding.UTF8.GetBytes(request.ToString()), ct);
        var buffer = new byte[4096];
        var reply = new StringBuilder();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(TimeSpan.FromSeconds(5));
        // Every reply used here is one line, or a bulk string: its length line then its data line.
        while (!IsComplete(reply.ToString()))
        {
            var n = await socket.ReceiveAsync(buffer, limit.Token);
            if (n == 0) break;
            reply.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return reply.ToString().TrimEnd('\r', '\n');

        static bool IsComplete(string text) =>
            text.EndsWith("\r\n", StringComparison.Ordinal)
            && (!text.StartsWith('$') || text.StartsWith("$-1", StringComparison.Ordinal) || text.Split("\r\n").Length >= 3);
    }
}
