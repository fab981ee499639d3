using System.Net;
using Dfs.ServiceDefaults;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Dfs.ServiceDefaults.Tests;

/// <summary>AddClusterTrust and UseClusterSignatures on a bare service: every factory client signs, the middleware checks.</summary>
public sealed class ClusterTrustTests
{
    private const string Secret = "service-defaults-tests-secret-0123456789";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static WebApplication Build(params string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.AddServiceDefaults();
        builder.AddClusterTrust();
        var app = builder.Build();
        app.UseClusterSignatures(context => context.Request.Path.StartsWithSegments("/private"));
        app.MapDefaultEndpoints();
        app.MapGet("/private/thing", (HttpRequest request) => request.QueryString.Value ?? "");
        app.MapGet("/public", () => "open");
        return app;
    }

    [Fact]
    public async Task Clients_from_the_factory_sign_and_only_signed_requests_pass_where_signatures_are_required()
    {
        await using var app = Build($"--Dfs:Cluster:Secret={Secret}");
        await app.StartAsync(Ct);
        var url = new Uri(app.Urls.First());
        using var signed = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient("any-name");
        using var named = app.Services.GetRequiredService<IHttpClientFactory>().CreateClient();
        using var plain = new HttpClient();

        Assert.Equal("?a=1&b=%20", await signed.GetStringAsync(new Uri(url, "/private/thing?a=1&b=%20"), Ct));
        Assert.Equal(HttpStatusCode.OK, (await named.GetAsync(new Uri(url, "/private/thing"), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await plain.GetAsync(new Uri(url, "/private/thing"), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync(new Uri(url, "/public"), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await plain.GetAsync(new Uri(url, "/health"), Ct)).StatusCode);
        await app.StopAsync(Ct);
    }

    [Theory]
    [InlineData(null, null, "Dfs:Cluster:Secret is not set")]
    [InlineData("short", null, "at least 16 characters")]
    [InlineData(Secret, "not-a-thumbprint", "GatewayCertificateThumbprint must be")]
    public async Task Unusable_settings_are_refused_with_the_reason(string? secret, string? thumbprint, string expected)
    {
        var args = new List<string>();
        if (secret is not null) args.Add($"--Dfs:Cluster:Secret={secret}");
        if (thumbprint is not null) args.Add($"--Dfs:Cluster:GatewayCertificateThumbprint={thumbprint}");

        var error = await Assert.ThrowsAsync<OptionsValidationException>(async () =>
        {
            await using var app = Build([.. args]);
            await app.StartAsync(Ct);
        });
        Assert.Contains(expected, error.Message);
    }
}
