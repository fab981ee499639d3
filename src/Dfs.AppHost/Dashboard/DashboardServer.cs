using System.Net;
using System.Security.Cryptography;
using Dfs.AppHost.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Dashboard;

/// <summary>
/// The AppHost's dashboard, like Aspire's: resources with their logs and actions, the cluster as the
/// gateway sees it, and a file browser. Kestrel on 127.0.0.1 only, opened with a token.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(5);
    private readonly WebApplication _web;
    private bool _disposed;

    private DashboardServer(WebApplication web, Uri url, string token)
    {
        _web = web;
        Url = url;
        Token = token;
    }

    /// <summary>http://127.0.0.1:PORT/</summary>
    public Uri Url { get; }

    public string Token { get; }

    /// <summary>Opens the dashboard in a browser: sets the session cookie and redirects to the resources.</summary>
    public Uri LoginUrl => new(Url, "login?t=" + Uri.EscapeDataString(Token));

    public static async Task<DashboardServer> StartAsync(DfsApplication app, DashboardSettings settings, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger("Dfs.AppHost.Dashboard");
        var token = settings.Token ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        try
        {
            return await StartOnAsync(app, settings.Port, token, loggers, ct);
        }
        catch (Exception e) when (settings.Port != 0 && IsAddressInUse(e))
        {
            logger.LogWarning("Dashboard port {Port} is in use; the dashboard takes a free port instead", settings.Port);
            return await StartOnAsync(app, 0, token, loggers, ct);
        }
    }

    private static async Task<DashboardServer> StartOnAsync(DfsApplication app, int port, string token, ILoggerFactory loggers, CancellationToken ct)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            ApplicationName = typeof(DashboardServer).Assembly.GetName().Name,
            EnvironmentName = Environments.Production,
            ContentRootPath = AppContext.BaseDirectory,
        });
        // The AppHost's own logger factory, minus ASP.NET Core's per-request chatter.
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(new ForwardingLoggerProvider(loggers));
        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // The AppHost handles Ctrl+C and SIGTERM itself and stops the dashboard last: no console lifetime here.
        builder.Services.AddSingleton<IHostLifetime, ExternallyControlledLifetime>();
        // Explicit endpoints; ASPNETCORE_URLS / HTTP_PORTS from the environment are for the services, not for us.
        builder.WebHost.UseSetting(WebHostDefaults.ServerUrlsKey, "");
        builder.WebHost.UseSetting(WebHostDefaults.HttpPortsKey, "");
        builder.WebHost.UseSetting(WebHostDefaults.HttpsPortsKey, "");
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            // Uploads stream through to the gateway whatever their size.
            kestrel.Limits.MaxRequestBodySize = null;
            kestrel.Listen(IPAddress.Loopback, port);
        });
        builder.Services.AddProblemDetails();
        builder.Services.AddSingleton(app);
        builder.Services.AddSingleton(new DashboardToken(token));
        builder.Services.AddSingleton<GatewayAccess>();
        builder.Services.AddSingleton<RemovalTracker>();

        var web = builder.Build();
        web.UseExceptionHandler();
        web.UseStatusCodePages();
        web.UseDashboardHeaders();
        web.UseDashboardAuth();
        web.MapDashboardAuth();
        web.MapResourceEndpoints();
        web.MapResourcePages();
        web.MapClusterPages();
        web.MapFileEndpoints();
        web.MapFilePages();

        try
        {
            await web.StartAsync(ct);
        }
        catch
        {
            await web.DisposeAsync();
            throw;
        }
        var address = web.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        // Kestrel reports http://127.0.0.1:PORT; a trailing slash makes relative URIs resolve under it.
        var url = new Uri(address.TrimEnd('/') + "/");
        return new DashboardServer(web, url, token);
    }

    private static bool IsAddressInUse(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is AddressInUseException) return true;
            if (current is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse }) return true;
        }
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        _disposed = true;
        using (var timeout = new CancellationTokenSource(StopTimeout))
        {
            try { await _web.StopAsync(timeout.Token); }
            catch (OperationCanceledException) { }
        }
        await _web.DisposeAsync();
    }

    private sealed class ExternallyControlledLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    /// <summary>Hands ASP.NET Core's loggers to the AppHost's factory without letting the web host dispose it.</summary>
    private sealed class ForwardingLoggerProvider(ILoggerFactory loggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => loggers.CreateLogger(categoryName);

        public void Dispose()
        {
        }
    }
}
