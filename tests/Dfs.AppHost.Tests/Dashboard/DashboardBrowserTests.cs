using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dfs.AppHost.Tests.Dashboard;

/// <summary>
/// The dashboard in a real browser: Debian's chromium driven by Playwright's own node driver (shipped in the
/// package, copied to bin/.playwright). Nothing is downloaded: the browser is the system's.
/// </summary>
[Trait("Category", "Dashboard")]
public sealed class DashboardBrowserTests
{
    private const string Chromium = "/usr/bin/chromium";
    private static readonly TimeSpan StateChange = TimeSpan.FromSeconds(30);
    /// <summary>Starting a new node process, or draining and stopping one, on a busy machine.</summary>
    private static readonly TimeSpan NodeChange = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_browser_signs_in_stops_starts_adds_and_removes_a_node_and_moves_a_file_both_ways()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        var screenshots = Path.Combine(RepositoryRoot(), "artifacts", "screenshots");
        Directory.CreateDirectory(screenshots);

        await using var cluster = await DashboardCluster.StartAsync(Ct);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--no-first-run", "--disable-extensions"],
            Timeout = 30_000,
        });
        await using var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            AcceptDownloads = true,
            ViewportSize = new ViewportSize { Width = 1440, Height = 900 },
        });
        context.SetDefaultTimeout(15_000);
        var page = await context.NewPageAsync();
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        page.Console += (_, message) => { if (message.Type == "error") scriptErrors.Add(message.Text); };

        // Without the token: the login page.
        await page.GotoAsync(cluster.Url.ToString());
        await Expect(page.Locator("#login-form")).ToBeVisibleAsync();

        // The login link: resources, all running.
        await page.GotoAsync(cluster.App.DashboardLoginUrl!.ToString());
        Assert.Equal(cluster.Url.ToString(), page.Url);
        foreach (var name in new[] { "gateway", "node-1", "node-2" })
            await Expect(page.Locator($"#state-{name}")).ToHaveTextAsync("running");
        await Expect(page.Locator("#resources-body tr")).ToHaveCountAsync(3);
        await Expect(page.Locator("#resource-node-1 [data-field=pid]")).ToHaveTextAsync(cluster.App.GetResource("node-1").Pid!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "dashboard.png"), FullPage = true });

        // Stop node-2 with its button; the live refresh shows it stopped; start it again.
        var node2 = page.Locator("#resource-node-2");
        await node2.Locator("button[data-action=stop]").ClickAsync();
        await Expect(page.Locator("#state-node-2")).ToHaveTextAsync("stopped", new() { Timeout = (float)StateChange.TotalMilliseconds });
        Assert.Equal(Dfs.AppHost.Model.ResourceState.Stopped, cluster.App.GetResource("node-2").State);
        await Expect(node2.Locator("[data-field=pid]")).ToHaveTextAsync("");
        await Expect(node2.Locator("button[data-action=start]")).ToBeEnabledAsync();
        await Expect(node2.Locator("button[data-action=stop]")).ToBeDisabledAsync();
        await node2.Locator("button[data-action=start]").ClickAsync();
        await Expect(page.Locator("#state-node-2")).ToHaveTextAsync("running", new() { Timeout = (float)StateChange.TotalMilliseconds });
        Assert.Equal(Dfs.AppHost.Model.ResourceState.Running, cluster.App.GetResource("node-2").State);

        // Add a storage node with the button: a new row reaches running (and healthy).
        await page.Locator("#add-node").ClickAsync();
        await Expect(page.Locator("#state-node-3")).ToHaveTextAsync("running", new() { Timeout = (float)NodeChange.TotalMilliseconds });
        await Expect(page.Locator("#resources-body tr")).ToHaveCountAsync(4);
        await Expect(page.Locator("#resource-node-3 [data-field=health]")).ToHaveTextAsync("healthy");
        Assert.Equal(Dfs.AppHost.Model.ResourceState.Running, cluster.App.GetResource("node-3").State);

        // Remove it with its button, accepting the confirm: drained, stopped, and its row goes.
        var confirms = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            confirms.Add(dialog.Message);
            await dialog.AcceptAsync();
        };
        await page.Locator("#resource-node-3 button[data-action=remove]").ClickAsync();
        await Expect(page.Locator("#resource-node-3")).ToHaveCountAsync(0, new() { Timeout = (float)NodeChange.TotalMilliseconds });
        Assert.Contains("node-3", Assert.Single(confirms));
        await Expect(page.Locator("#resources-body tr")).ToHaveCountAsync(3);
        await Expect(page.Locator("#removed-nodes li[data-removed=node-3]")).ToContainTextAsync("removed");
        Assert.DoesNotContain(cluster.App.Resources, r => r.Name == "node-3");

        // Logs: the search filters server-side and marks the matches.
        await page.Locator("#resource-node-2 a[data-field=logs]").ClickAsync();
        await Expect(page.Locator("#log-lines .line").First).ToBeVisibleAsync();
        await page.Locator("#log-search").FillAsync("STARTING NODE-2");
        await Expect(page.Locator("#log-lines mark").First).ToHaveTextAsync("starting node-2", new() { IgnoreCase = true });
        Assert.All(await page.Locator("#log-lines .line").AllInnerTextsAsync(), line => Assert.Contains("starting node-2", line, StringComparison.OrdinalIgnoreCase));

        // Files: upload with the file input, see it listed, download it back.
        var bytes = RandomNumberGenerator.GetBytes(300_000);
        await page.Locator("#nav-files").ClickAsync();
        await Expect(page.Locator("#file-tools")).ToBeVisibleAsync();
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload { Name = "from-browser.bin", MimeType = "application/octet-stream", Buffer = bytes });
        await page.Locator("#upload-button").ClickAsync();
        var row = page.Locator("#listing tr[data-name='from-browser.bin']");
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "files.png"), FullPage = true });
        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("a[data-download]").ClickAsync());
        Assert.Equal("from-browser.bin", download.SuggestedFilename);
        var downloaded = await File.ReadAllBytesAsync((await download.PathAsync())!, Ct);
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(downloaded));

        // The file's page lists its chunk and the nodes holding it.
        await row.Locator("a[data-entry]").ClickAsync();
        await Expect(page.Locator("#file-details [data-field=sha256]")).ToHaveTextAsync(Convert.ToHexStringLower(SHA256.HashData(bytes)));
        await Expect(page.Locator("#chunks tr[data-chunk] .node").First).ToBeVisibleAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "file.png"), FullPage = true });

        // The cluster page, with the file counted.
        await page.Locator("#nav-cluster").ClickAsync();
        var nodeRows = page.Locator("#nodes tr[data-node]");
        await Expect(nodeRows).ToHaveCountAsync(2);
        foreach (var nodeRow in await nodeRows.AllAsync())
        {
            var meter = nodeRow.Locator("[data-field=capacity] meter");
            await Expect(meter).ToHaveCountAsync(1);
            var max = double.Parse((await meter.GetAttributeAsync("max"))!, System.Globalization.CultureInfo.InvariantCulture);
            var value = double.Parse((await meter.GetAttributeAsync("value"))!, System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(max > 1 && value >= 0 && value <= max, $"meter {value} of {max}");
            await Expect(nodeRow.Locator("[data-field=heartbeat]")).ToHaveTextAsync(new Regex(@"^\d+ s ago$"));
        }
        await Expect(page.Locator("#cluster-totals [data-metric=files] .value")).ToHaveTextAsync("1");
        await Expect(page.Locator("#cluster-totals [data-metric=chunks] .value")).ToHaveTextAsync(new Regex(@"^[1-9]\d*$"));
        await Expect(page.Locator("#replication [data-metric=under-replicated] .value")).ToHaveTextAsync(new Regex(@"^\d+$"));
        await Expect(page.Locator("#error-queues")).ToHaveCountAsync(1);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "cluster.png"), FullPage = true });

        Assert.Empty(scriptErrors);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Dfs.sln"))) return dir.FullName;
        throw new InvalidOperationException("Dfs.sln not found above " + AppContext.BaseDirectory);
    }
}
