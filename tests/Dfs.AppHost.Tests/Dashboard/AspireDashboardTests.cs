using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Dfs.AppHost.Tests.Support;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>
/// The real Aspire dashboard of a running AppHost: its resources page in a real browser (Debian's chromium driven by
/// Playwright's own node driver, copied to bin/.playwright; nothing is downloaded), and its telemetry API, where one
/// upload through the gateway is one trace down to the storage nodes.
/// </summary>
[Trait("Category", "Dashboard")]
public sealed class AspireDashboardTests(DashboardExeFixture fixture) : IClassFixture<DashboardExeFixture>
{
    private const string Chromium = "/usr/bin/chromium";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_resources_page_in_a_browser_shows_every_resource_running_and_healthy()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var screenshots = Path.Combine(Procs.RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1440, Height = 720 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();

        // Without the token there is only the login page.
        await page.GotoAsync(fixture.DashboardUrl.ToString());
        await Expect(page).ToHaveURLAsync(new Regex("/login"));

        // The login link Aspire printed: the resources page.
        await page.GotoAsync(fixture.LoginUrl.ToString());
        await Expect(page).ToHaveURLAsync(fixture.DashboardUrl.ToString());
        foreach (var name in DashboardExeFixture.Resources)
        {
            var row = page.Locator($"tr.resource-row:has(td[col-index='1'][aria-label$=': {name}'])");
            var state = row.Locator("td[col-index='2']");
            await Expect(state).ToHaveAttributeAsync("title", "Running", new() { Timeout = 90_000 });
            // Healthy: the green check; a running resource whose health check fails gets a warning sign instead.
            await Expect(state.Locator("svg.severity-icon")).ToHaveAttributeAsync("style", new Regex("var\\(--success\\)"), new() { Timeout = 90_000 });
        }
        await Expect(page.Locator("tr.resource-row")).ToHaveCountAsync(DashboardExeFixture.Resources.Length);

        // Without the development-certificate notice (harmless here: the dashboard runs on loopback over plain HTTP).
        var dismiss = page.Locator("fluent-button.dashboard-message-bar-dismiss");
        if (await dismiss.CountAsync() > 0) await dismiss.First.ClickAsync();
        var path = Path.Combine(screenshots, "aspire-dashboard.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        Assert.True(new FileInfo(path).Length > 10_000, "the screenshot has content");
        // The README and docs/apphost.md show this one.
        File.Copy(path, Path.Combine(Procs.RepositoryRoot(), "docs", "images", "dashboard.png"), overwrite: true);
    }

    [Fact]
    public async Task The_telemetry_API_answers_only_with_the_key_the_AppHost_was_given()
    {
        using (var anonymous = new HttpClient { BaseAddress = fixture.DashboardUrl })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/telemetry/resources", Ct)).StatusCode);
            anonymous.DefaultRequestHeaders.Add("x-api-key", "not-the-key-0123456789");
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/telemetry/resources", Ct)).StatusCode);
        }
        using var telemetry = fixture.CreateTelemetryClient();
        // Every service sends its telemetry to the dashboard (in batches, every few seconds: a service that just started
        // may not have sent any yet).
        string[] services = ["gateway", .. DashboardExeFixture.Nodes, "replicator"];
        var resources = "";
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            resources = await telemetry.GetStringAsync("/api/telemetry/resources", Ct);
            if (services.All(s => resources.Contains($"\"{s}\"", StringComparison.Ordinal)) || DateTime.UtcNow > deadline) break;
            await Task.Delay(1000, Ct);
        }
        foreach (var service in services) Assert.Contains($"\"{service}\"", resources);
    }

    [Fact]
    public async Task An_upload_is_one_trace_across_the_gateway_the_nodes_and_the_replicator()
    {
        var path = $"/traced/{Guid.NewGuid():N}.bin";
        using (var gateway = fixture.CreateGatewayClient())
        {
            // Three different chunks of 1 MiB: at least one store on a node for each while the request runs (the gateway
            // may leave further copies to the Replicator).
            using var response = await gateway.PutAsync("/api/files" + path, new ByteArrayContent(RandomNumberGenerator.GetBytes(3 * 1024 * 1024)), Ct);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        }

        using var telemetry = fixture.CreateTelemetryClient();
        // The services export in batches (every few seconds): wait for the whole trace, nodes' spans included.
        List<Span>? trace = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var traceId = (await SpansAsync(telemetry, "/api/telemetry/traces?resource=gateway&search=dfs.upload&limit=1000"))
                .FirstOrDefault(s => s.Name == "dfs.upload" && s.Attributes.GetValueOrDefault("dfs.path") == path)?.TraceId;
            if (traceId is not null)
            {
                trace = await SpansAsync(telemetry, "/api/telemetry/traces/" + traceId);
                if (trace.Count(s => s.Service.StartsWith("node-", StringComparison.Ordinal) && s.Name == "chunk put") >= 6
                    && trace.Count(IsReplicaReport) >= 3
                    // Every batch of every service in: each span's parent has arrived too.
                    && trace.All(s => s.Parent is null || trace.Any(p => p.SpanId == s.Parent)))
                    break;
            }
            await Task.Delay(1000, Ct);
        }
        Assert.True(trace is not null, $"no trace of the upload of {path} reached the dashboard within 90 s");

        var byId = trace.ToDictionary(s => s.SpanId);
        Assert.Single(trace.Select(s => s.TraceId).Distinct());
        // The gateway's request: the root, a server span on the files route.
        var request = Assert.Single(trace, s => s.Parent is null);
        Assert.Equal(("gateway", "Microsoft.AspNetCore", SpanKindServer), (request.Service, request.Scope, request.Kind));
        Assert.Equal("/api/files/{**path}", request.Attributes.GetValueOrDefault("http.route"));
        Assert.Equal("201", request.Attributes.GetValueOrDefault("http.response.status_code"));
        var upload = Assert.Single(trace, s => s.Name == "dfs.upload");
        Assert.Equal(request.SpanId, upload.Parent);

        // Each chunk store on a node: the node's server span on /chunks/{id}, whose parent is the gateway's PUT to it,
        // and the node's own "chunk put" below it.
        var stores = trace.Where(s => s.Service.StartsWith("node-", StringComparison.Ordinal) && s.Name == "chunk put"
            && CallerOf(s, byId) == "gateway").ToList();
        var chunks = new HashSet<string>(StringComparer.Ordinal);
        foreach (var store in stores)
        {
            var server = byId[store.Parent!];
            Assert.Equal((store.Service, "Microsoft.AspNetCore", SpanKindServer), (server.Service, server.Scope, server.Kind));
            Assert.Equal("/chunks/{id}", server.Attributes.GetValueOrDefault("http.route"));
            var client = byId[server.Parent!];
            Assert.Equal(("gateway", "System.Net.Http", SpanKindClient, "PUT"), (client.Service, client.Scope, client.Kind, client.Attributes.GetValueOrDefault("http.request.method")));
            Assert.Equal(upload.SpanId, client.Parent);
            chunks.Add(client.Attributes["url.full"][(client.Attributes["url.full"].LastIndexOf('/') + 1)..]);
        }
        Assert.True(chunks.Count == 3, $"{chunks.Count} of the file's 3 chunks were stored within its trace ({stores.Count} stores)");

        // The metadata commit: PostgreSQL commands below the upload.
        Assert.Contains(trace, s => s.Service == "gateway" && s.Scope == "Npgsql" && IsBelow(s, upload, byId));
        // The FileStored publish keeps the request's trace (the gateway queues it), and MassTransit carries it over
        // RabbitMQ to the Replicator's consume.
        var publish = Assert.Single(trace, s => s.Service == "gateway" && s.Name == "dfs.publish FileStored");
        // MassTransit's receive and consume spans on the Replicator's side, below the publish.
        var consume = trace.Where(s => s.Service == "replicator" && s.Scope == "MassTransit" && s.Kind == SpanKindConsumer).ToList();
        Assert.NotEmpty(consume);
        Assert.All(consume, c => Assert.True(IsBelow(c, publish, byId), $"the Replicator's {c.Name} is not below the gateway's publish"));
        // Its node-to-node copies (replication factor 2: one more copy of each chunk) and its reports to the gateway.
        var copies = trace.Where(s => s.Service.StartsWith("node-", StringComparison.Ordinal) && s.Name == "chunk put"
            && CallerOf(s, byId) == "replicator").ToList();
        Assert.True(copies.Count >= 3, $"{copies.Count} copies by the Replicator in the trace");
        Assert.All(copies, c => Assert.True(consume.Any(m => IsBelow(c, m, byId)), "a copy is not below the Replicator's consume"));
        var reports = trace.Where(IsReplicaReport).ToList();
        Assert.True(reports.Count >= 3, $"{reports.Count} replica reports in the trace");
        Assert.All(reports, r => Assert.Equal("replicator", byId[r.Parent!].Service));

        // The same trace as the dashboard shows it (docs/telemetry.md embeds the picture).
        await ScreenshotTraceAsync(trace[0].TraceId, request.SpanId);
        // Parent links intact: every span but the request's has its parent in the trace.
        Assert.All(trace.Where(s => s != request), s => Assert.True(s.Parent is not null && byId.ContainsKey(s.Parent), $"{s.Service} {s.Name}: parent {s.Parent} is not in the trace"));
    }

    [Fact]
    public async Task A_read_that_falls_over_to_another_copy_shows_the_failed_attempt_and_the_one_that_served_in_one_trace()
    {
        var path = $"/traced/failover-{Guid.NewGuid():N}.bin";
        // Above the gateway's small-chunk cache (64 KiB): the read goes to the nodes.
        var data = RandomNumberGenerator.GetBytes(200_000);
        using var gateway = fixture.CreateGatewayClient();
        var api = DfsRefit.Gateway(gateway);
        await api.PutFileAsync(path, new MemoryStream(data), ct: Ct);
        // Replication factor 2: wait for the Replicator's second copy, then damage the copy the gateway tries first.
        ChunkInfo chunk;
        var copied = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((chunk = Assert.Single((await api.StatAsync(path, Ct)).Chunks)).Replicas.Count < 2)
        {
            Assert.True(DateTime.UtcNow < copied, "the Replicator never made the second copy");
            await Task.Delay(200, Ct);
        }
        var damaged = chunk.Replicas[0].NodeName;
        var file = Path.Combine(fixture.StateDirectory, damaged, "chunks", chunk.Id[..2], chunk.Id[2..4], chunk.Id);
        var bytes = await File.ReadAllBytesAsync(file, Ct);
        bytes[1000] ^= 0xff;
        await File.WriteAllBytesAsync(file, bytes, Ct);

        await using (var download = await api.GetFileAsync(path, ct: Ct))
        {
            var received = new MemoryStream();
            await download.Content.CopyToAsync(received, Ct);
            Assert.Equal(data, received.ToArray());
        }

        using var telemetry = fixture.CreateTelemetryClient();
        List<Span>? trace = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var traceId = (await SpansAsync(telemetry, "/api/telemetry/traces?resource=gateway&search=dfs.chunk.read&limit=1000"))
                .FirstOrDefault(s => s.Name == "dfs.chunk.read" && s.Attributes.GetValueOrDefault("dfs.chunk") == chunk.Id && s.Status == SpanStatusError)?.TraceId;
            if (traceId is not null)
            {
                trace = await SpansAsync(telemetry, "/api/telemetry/traces/" + traceId);
                // The nodes export in their own batches: wait until each attempt's node answer is in too.
                var read = trace.Where(s => s.Name == "dfs.chunk.read").ToList();
                if (read.Count >= 2 && read.All(a => NodeAnswered(trace, a)) && trace.All(s => s.Parent is null || trace.Any(p => p.SpanId == s.Parent))) break;
            }
            await Task.Delay(1000, Ct);
        }
        Assert.True(trace is not null, $"no trace of the read of {path} with a failed attempt reached the dashboard within 90 s");

        var byId = trace.ToDictionary(s => s.SpanId);
        var request = Assert.Single(trace, s => s.Parent is null);
        Assert.Equal(("gateway", SpanKindServer, "GET"), (request.Service, request.Kind, request.Attributes.GetValueOrDefault("http.request.method")));
        var attempts = trace.Where(s => s.Name == "dfs.chunk.read").ToList();
        Assert.Equal(2, attempts.Count);
        var failed = Assert.Single(attempts, a => a.Status == SpanStatusError);
        var served = Assert.Single(attempts, a => a.Status != SpanStatusError);
        Assert.Equal(damaged, failed.Attributes["dfs.node"]);
        Assert.Contains("SHA-256", failed.StatusMessage);
        Assert.NotEqual(damaged, served.Attributes["dfs.node"]);
        // Each attempt is the gateway's GET to that node and the node's answer, below the one request (the failed one also
        // holds the metadata write that reports the bad copy).
        foreach (var attempt in attempts)
        {
            Assert.True(IsBelow(attempt, request, byId));
            Assert.True(NodeAnswered(trace, attempt), $"no answer of {attempt.Attributes["dfs.node"]} below its attempt");
        }
    }

    /// <summary>Below a read attempt: the gateway's HTTP call, and below it the node's server span.</summary>
    private static bool NodeAnswered(List<Span> trace, Span attempt)
    {
        var calls = trace.Where(s => s.Parent == attempt.SpanId && s.Kind == SpanKindClient && s.Scope == "System.Net.Http").Select(s => s.SpanId).ToList();
        return trace.Any(s => s.Parent is { } p && calls.Contains(p) && s.Service == attempt.Attributes.GetValueOrDefault("dfs.node") && s.Kind == SpanKindServer);
    }

    /// <summary>The dashboard's page of one trace, in Chromium, saved to artifacts/screenshots and docs/images/put-trace.png.</summary>
    private async Task ScreenshotTraceAsync(string traceId, string rootSpanId)
    {
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await LaunchChromiumAsync(playwright);
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1400 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync(fixture.LoginUrl.ToString());
        await Expect(page).ToHaveURLAsync(fixture.DashboardUrl.ToString());
        await page.GotoAsync(new Uri(fixture.DashboardUrl, "/traces/detail/" + traceId).ToString());
        // The waterfall lists the trace's spans: wait for the gateway's request and the Replicator's part to be drawn.
        await Expect(page.GetByText("PUT /api/files/{**path}").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.GetByText("replicator").First).ToBeVisibleAsync(new() { Timeout = 60_000 });
        var dismiss = page.Locator("fluent-button.dashboard-message-bar-dismiss");
        if (await dismiss.CountAsync() > 0) await dismiss.First.ClickAsync();
        var screenshots = Path.Combine(Procs.RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);
        var path = Path.Combine(screenshots, "put-trace.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        Assert.True(new FileInfo(path).Length > 10_000, $"the screenshot of trace {traceId} (root {rootSpanId}) has content");
        File.Copy(path, Path.Combine(Procs.RepositoryRoot(), "docs", "images", "put-trace.png"), overwrite: true);
    }

    /// <summary>Debian's chromium, headless, without the background traffic a closed network refuses.</summary>
    private static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run", "--disable-extensions"],
            Timeout = 60_000,
        });

    private const int SpanKindServer = 2;
    private const int SpanKindClient = 3;
    private const int SpanKindConsumer = 5;
    private const int SpanStatusError = 2;

    /// <summary>The service whose client span called the server span above a node's "chunk put".</summary>
    private static string? CallerOf(Span store, Dictionary<string, Span> byId) =>
        store.Parent is { } server && byId.TryGetValue(server, out var s) && s.Parent is { } client && byId.TryGetValue(client, out var c) ? c.Service : null;

    private static bool IsReplicaReport(Span s) =>
        s.Service == "gateway" && s.Kind == SpanKindServer && s.Attributes.GetValueOrDefault("http.route") == "/internal/replicas";

    /// <summary>Whether <paramref name="ancestor"/> is on the path from <paramref name="span"/> to the trace's root.</summary>
    private static bool IsBelow(Span span, Span ancestor, Dictionary<string, Span> byId)
    {
        for (var parent = span.Parent; parent is not null && byId.TryGetValue(parent, out var next); parent = next.Parent)
            if (parent == ancestor.SpanId) return true;
        return false;
    }

    private sealed record Span(string TraceId, string SpanId, string? Parent, string Name, int Kind, string Service, string Scope, Dictionary<string, string> Attributes,
        int Status = 0, string? StatusMessage = null);

    /// <summary>The spans of an OTLP/JSON answer (resourceSpans → scopeSpans → spans), with their service and scope.</summary>
    private static async Task<List<Span>> SpansAsync(HttpClient telemetry, string query)
    {
        using var response = await telemetry.GetAsync(query, Ct);
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var spans = new List<Span>();
        foreach (var resource in json.RootElement.GetProperty("data").GetProperty("resourceSpans").EnumerateArray())
        {
            var service = resource.TryGetProperty("resource", out var r) ? Attributes(r).GetValueOrDefault("service.name") ?? "" : "";
            foreach (var scope in resource.GetProperty("scopeSpans").EnumerateArray())
            {
                var scopeName = scope.GetProperty("scope").GetProperty("name").GetString() ?? "";
                foreach (var span in scope.GetProperty("spans").EnumerateArray())
                    spans.Add(new Span(span.GetProperty("traceId").GetString()!, span.GetProperty("spanId").GetString()!,
                        span.TryGetProperty("parentSpanId", out var parent) && parent.GetString() is { Length: > 0 } p ? p : null,
                        span.GetProperty("name").GetString()!, span.TryGetProperty("kind", out var kind) ? kind.GetInt32() : 0, service, scopeName, Attributes(span),
                        span.TryGetProperty("status", out var status) && status.TryGetProperty("code", out var code) ? code.GetInt32() : 0,
                        span.TryGetProperty("status", out var withMessage) && withMessage.TryGetProperty("message", out var message) ? message.GetString() : null));
            }
        }
        return spans;
    }

    private static Dictionary<string, string> Attributes(JsonElement element)
    {
        var attributes = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!element.TryGetProperty("attributes", out var list)) return attributes;
        foreach (var attribute in list.EnumerateArray())
        {
            var value = attribute.GetProperty("value").EnumerateObject().FirstOrDefault();
            attributes[attribute.GetProperty("key").GetString()!] = value.Value.ValueKind == JsonValueKind.String ? value.Value.GetString()! : value.Value.ToString();
        }
        return attributes;
    }
}
