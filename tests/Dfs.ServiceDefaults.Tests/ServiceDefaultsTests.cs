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
