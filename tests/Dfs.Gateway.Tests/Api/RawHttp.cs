using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace Dfs.Gateway.Tests.Api;

/// <summary>One answer read off the wire: status, headers (last value wins, names case-insensitive) and body.</summary>
internal sealed record RawResponse(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
{
    public string Text => Encoding.UTF8.GetString(Body);
}

/// <summary>
/// HTTP/1.1 over a plain TCP socket, for what HttpClient will not send: a request target exactly as written,
/// oversized request lines and headers, a body longer or shorter than its Content-Length.
/// </summary>
internal sealed class RawHttp : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start, _end;

    private RawHttp(Socket socket)
    {
        _socket = socket;
        _stream = new NetworkStream(socket, ownsSocket: false);
    }

    public static string AdminAuthorization =>
        "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{GatewayFactory.AdminUser}:{GatewayFactory.AdminPassword}"));

    public static async Task<RawHttp> ConnectAsync(Uri server, CancellationToken ct)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.Host, server.Port, ct);
        return new RawHttp(socket);
    }

    /// <summary>Sends <paramref name="head"/> (request line and headers, lines joined with CRLF, Host and admin credentials added) and then <paramref name="body"/>.</summary>
    public async Task SendRequestAsync(string head, byte[]? body, CancellationToken ct, bool authenticate = true)
    {
        var lines = head.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        lines.Insert(1, "Host: 127.0.0.1");
        if (authenticate) lines.Insert(2, "Authorization: " + AdminAuthorization);
        var bytes = Encoding.ASCII.GetBytes(string.Join("\r\n", lines) + "\r\n\r\n");
        await SendAsync(bytes, ct);
        if (body is { Length: > 0 }) await SendAsync(body, ct);
    }

    public async Task SendAsync(byte[] bytes, CancellationToken ct) => await _stream.WriteAsync(bytes, ct);

    /// <summary>Half-closes: the server sees the end of the request stream, and can still answer.</summary>
    public void ShutdownSend() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Reads one answer; null when the server closed the connection before sending one.</summary>
    public async Task<RawResponse?> ReadResponseAsync(CancellationToken ct, bool head = false)
    {
        var statusLine = await ReadLineAsync(ct);
        if (statusLine is null) return null;
        var parts = statusLine.Split(' ', 3);
        Assert.StartsWith("HTTP/1.1", parts[0]);
        var status = int.Parse(parts[1], CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (await ReadLineAsync(ct) is { Length: > 0 } line)
        {
            var colon = line.IndexOf(':');
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }
        using var body = new MemoryStream();
        if (head || status is 204 or 304)
        {
        }
        else if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            while (true)
            {
                var size = int.Parse((await ReadLineAsync(ct))!.Split(';')[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    while (await ReadLineAsync(ct) is { Length: > 0 })
                    {
                    }
                    break;
                }
                await ReadExactlyAsync(body, size, ct);
                await ReadLineAsync(ct);
            }
        }
        else if (headers.TryGetValue("Content-Length", out var length))
        {
            await ReadExactlyAsync(body, int.Parse(length, CultureInfo.InvariantCulture), ct);
        }
        return new RawResponse(status, headers, body.ToArray());
    }

    /// <summary>True when the server closed the connection (after whatever it still had to send, which is discarded).</summary>
    public async Task<bool> IsClosedByServerAsync(CancellationToken ct)
    {
        try
        {
            while (true)
            {
                _start = _end = 0;
                if (await _stream.ReadAsync(_buffer, ct) == 0) return true;
            }
        }
        catch (IOException)
        {
            return true; // reset
        }
    }

    private async Task<bool> FillAsync(CancellationToken ct)
    {
        if (_start == _end) _start = _end = 0;
        if (_end == _buffer.Length)
        {
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        int read;
        try { read = await _stream.ReadAsync(_buffer.AsMemory(_end), ct); }
        catch (IOException) { return false; }
        _end += read;
        return read > 0;
    }

    private async Task<string?> ReadLineAsync(CancellationToken ct)
    {
        while (true)
        {
            var newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                var line = Encoding.Latin1.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            if (!await FillAsync(ct)) return null;
        }
    }

    private async Task ReadExactlyAsync(MemoryStream into, int count, CancellationToken ct)
    {
        while (count > 0)
        {
            if (_start == _end && !await FillAsync(ct)) throw new EndOfStreamException("The server closed the connection inside a body.");
            var n = Math.Min(count, _end - _start);
            into.Write(_buffer, _start, n);
            _start += n;
            count -= n;
        }
    }

    public ValueTask DisposeAsync()
    {
        _stream.Dispose();
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
