using System.Diagnostics;
using System.Net;
using Dfs.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Hosting;

namespace Dfs.ServiceDefaults.Tests;

public sealed class ServiceDefaultsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_and_liveness_endpoints_answer()
    {
        await using var app = Build([]);
        await app.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        Assert.Equal("Healthy", await http.GetStringAsync("/health", Ct));
        Assert.Equal("Healthy", await http.GetStringAsync("/alive", Ct));
        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/nothing-here", Ct)).StatusCode);
        await app.StopAsync(Ct);
    }

    [Fact]
    public async Task A_service_stops_by_itself_when_its_parent_process_is_gone()
    {
        using var parent = Process.Start(new ProcessStartInfo("sleep", "60"))!;
        await using var app = Build([$"--{ParentProcessWatchdog.ParentPidVariable}={parent.Id}"]);
        await app.StartAsync(Ct);
        var stopped = new TaskCompletionSource();
        app.Lifetime.ApplicationStopping.Register(() => stopped.TrySetResult());

        await Task.Delay(1500, Ct);
        Assert.False(stopped.Task.IsCompleted, "stopped while the parent was alive");

        parent.Kill();
        await parent.WaitForExitAsync(Ct);
        await stopped.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
    }

    private static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        var app = builder.Build();
        app.MapDefaultEndpoints();
        return app;
    }
}
