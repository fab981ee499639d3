using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Dfs.AppHost.Dashboard;
using Dfs.AppHost.Testing;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>Where the dashboard listens, without a cluster: loopback, the asked port or a free one, the given or a random token.</summary>
[Trait("Category", "Dashboard")]
public sealed class DashboardServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_taken_port_means_a_free_one_and_a_warning()
    {
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var taken = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var logs = new RecordingLoggerProvider();
        using var loggers = LoggerFactory.Create(b => b.AddProvider(logs));
        await using var app = DfsTestingBuilder.CreateEmpty().Build();

        await using var dashboard = await DashboardServer.StartAsync(app, new DashboardSettings(taken, "a-fixed-token-for-tests"), loggers, Ct);

        Assert.Equal("127.0.0.1", dashboard.Url.Host);
        Assert.NotEqual(taken, dashboard.Url.Port);
        Assert.Equal("a-fixed-token-for-tests", dashboard.Token);
        Assert.Equal($"http://127.0.0.1:{dashboard.Url.Port}/login?t=a-fixed-token-for-tests", dashboard.LoginUrl.ToString());
        Assert.Contains(logs.Messages, m => m.Level == LogLevel.Warning && m.Text.Contains(taken.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal));

        using var http = new HttpClient { BaseAddress = dashboard.Url };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "a-fixed-token-for-tests");
        Assert.Equal("[]", await http.GetStringAsync("/api/resources", Ct));
        // The cluster page says plainly that there is no gateway to ask.
        Assert.Contains("id=\"gateway-down\"", await http.GetStringAsync("/cluster", Ct));
    }

    [Fact]
    public async Task A_free_port_is_used_as_asked_with_a_random_token_and_released_on_dispose()
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        using var loggers = LoggerFactory.Create(_ => { });
        await using var app = DfsTestingBuilder.CreateEmpty().Build();

        var dashboard = await DashboardServer.StartAsync(app, new DashboardSettings(port, null), loggers, Ct);
        string token;
        await using (dashboard)
        {
            Assert.Equal(new Uri($"http://127.0.0.1:{port}/"), dashboard.Url);
            token = dashboard.Token;
            Assert.Matches("^[0-9a-f]{48}$", token);
            using var http = new HttpClient();
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync(new Uri(dashboard.Url, "health"), Ct)).StatusCode);
        }

        // Gone with it: the port is free again.
        using var again = new TcpListener(IPAddress.Loopback, port);
        again.Start();
        await using var other = await DashboardServer.StartAsync(app, new DashboardSettings(0, null), loggers, Ct);
        Assert.NotEqual(token, other.Token);
    }

    private sealed class RecordingLoggerProvider : ILoggerProvider
    {
        private readonly List<(LogLevel Level, string Text)> _messages = [];

        public IReadOnlyList<(LogLevel Level, string Text)> Messages
        {
            get { lock (_messages) return [.. _messages]; }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(RecordingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._messages) owner._messages.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
