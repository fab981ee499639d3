using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Dfs.Gateway.Tests.Console;

/// <summary>
/// The console in a real browser against any gateway (this project's in-process one, or a full cluster's): signs
/// in, browses into a folder it creates, uploads a file, downloads it back with identical bytes, looks at its
/// chunks, drains a node from the cluster page and cancels the drain, and signs out. It leaves the cluster as it
/// found it (the folder is deleted through the API afterwards, the drain cancelled). Debian's chromium is driven
/// by Playwright's own node driver (shipped in the package, copied to bin/.playwright); nothing is downloaded.
/// </summary>
public sealed class ConsoleBrowserScenario(Uri gateway, string adminUser, string adminPassword)
{
    public const string Chromium = "/usr/bin/chromium";

    /// <summary>Bytes of the uploaded file: several chunks at the tests' 64 KiB chunk size, one at the default 8 MiB.</summary>
    public int FileSize { get; init; } = 300_000;

    /// <param name="screenshots">Where console-cluster.png and console-files.png are written.</param>
    public async Task RunAsync(string screenshots, CancellationToken ct)
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is needed (apt-get install chromium)");
        Environment.SetEnvironmentVariable("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1");
        Directory.CreateDirectory(screenshots);
        var folder = "/console-browser-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));
        try
        {
            await DriveAsync(folder, screenshots, ct);
        }
        finally
        {
            await DeleteThroughApiAsync(folder);
        }
    }

    private async Task DriveAsync(string folder, string screenshots, CancellationToken ct)
    {
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
        // Script errors and CSP violations (reported on the console) fail the test.
        var scriptErrors = new List<string>();
        page.PageError += (_, error) => scriptErrors.Add(error);
        page.Console += (_, message) => { if (message.Type == "error") scriptErrors.Add($"{message.Text} ({message.Location})"); };
        var confirms = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            confirms.Add(dialog.Message);
            await dialog.AcceptAsync();
        };

        // Not signed in: the cluster page sends the browser to the sign-in page, which sends it back after.
        await page.GotoAsync(new Uri(gateway, "/console").ToString());
        await Expect(page.Locator("#login-form")).ToBeVisibleAsync();
        Assert.Contains("/console/login", page.Url, StringComparison.Ordinal);
        await page.Locator("#login-user").FillAsync(adminUser);
        await page.Locator("#login-password").FillAsync(adminPassword + "-wrong");
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page.Locator("#login-message")).ToHaveTextAsync("Wrong user name or password.");
        await page.Locator("#login-password").FillAsync(adminPassword);
        await page.Locator("#login-submit").ClickAsync();
        await Expect(page.Locator("#nodes")).ToBeVisibleAsync();
        await Expect(page.Locator("#whoami")).ToHaveAttributeAsync("data-user", adminUser);
        // The script runs under the CSP: it stamps the live refresh.
        await Expect(page.Locator("#cluster-updated")).ToHaveTextAsync(new Regex("^updated "));

        // Files: a new folder, then into it from its parent's listing.
        await page.Locator("#nav-files").ClickAsync();
        await Expect(page.Locator("#folder")).ToHaveAttributeAsync("data-path", "/");
        var name = folder.TrimStart('/');
        await page.Locator("#mkdir-name").FillAsync(name);
        await page.Locator("#mkdir-button").ClickAsync();
        await Expect(page.Locator("#folder")).ToHaveAttributeAsync("data-path", folder);
        await Expect(page.Locator("#empty-listing")).ToBeVisibleAsync();
        await page.Locator("#breadcrumb a[data-path='/']").ClickAsync();
        await page.Locator($"#listing tr[data-name='{name}'] a[data-entry]").ClickAsync();
        await Expect(page.Locator("#folder")).ToHaveAttributeAsync("data-path", folder);

        // Upload with the file input: listed, with a message.
        var bytes = RandomNumberGenerator.GetBytes(FileSize);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes));
        await page.Locator("#upload-file").SetInputFilesAsync(new FilePayload { Name = "from browser.bin", MimeType = "application/octet-stream", Buffer = bytes });
        await page.Locator("#upload-button").ClickAsync();
        var row = page.Locator("#listing tr[data-name='from browser.bin']");
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 60_000 });
        await Expect(page.Locator("#message")).ToHaveTextAsync("Uploaded from browser.bin.");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "console-files.png"), FullPage = true });

        // Download: the same bytes, under the file's name.
        var download = await page.RunAndWaitForDownloadAsync(() => row.Locator("a[data-download]").ClickAsync());
        Assert.Equal("from browser.bin", download.SuggestedFilename);
        Assert.Equal(sha256, Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync((await download.PathAsync())!, ct))));

        // The file's page: its SHA-256, and every chunk on at least one node.
        await row.Locator("a[data-entry]").ClickAsync();
        await Expect(page.Locator("#file-details [data-field=sha256]")).ToHaveTextAsync(sha256);
        var chunks = page.Locator("#chunks tr[data-chunk]");
        Assert.True(await chunks.CountAsync() >= 1);
        foreach (var chunk in await chunks.AllAsync()) Assert.True(await chunk.Locator(".replica").CountAsync() >= 1);

        // The cluster page: drain a node with its button (after the confirmation), see the drain, cancel it.
        await page.Locator("#nav-cluster").ClickAsync();
        var nodeRows = page.Locator("#nodes tr[data-node]");
        await Expect(nodeRows.First).ToBeVisibleAsync();
        foreach (var nodeRow in await nodeRows.AllAsync())
        {
            var meter = nodeRow.Locator("[data-field=capacity] meter");
            await Expect(meter).ToHaveCountAsync(1);
            await Expect(nodeRow.Locator("[data-field=heartbeat]")).ToHaveTextAsync(new Regex(@"^\d+ (s|min|h|days) ago$"));
        }
        await Expect(page.Locator("#cluster-totals [data-metric=files] .value")).ToHaveTextAsync(new Regex(@"^[1-9][\d,]*$"));
        await Expect(page.Locator("#replication [data-metric=under-replicated] .value")).ToHaveTextAsync(new Regex(@"^[\d,]+$"));
        await Expect(page.Locator("#error-queues")).ToHaveCountAsync(1);
        var target = page.Locator("#nodes tr[data-node][data-draining=false]").First;
        var nodeName = (await target.GetAttributeAsync("data-node"))!;
        var drained = page.Locator($"#nodes tr[data-node='{nodeName}']");
        await drained.Locator("button[data-action=drain]").ClickAsync();
        await Expect(drained).ToHaveAttributeAsync("data-draining", "true");
        await Expect(drained.Locator("[data-field=at-risk]")).ToBeVisibleAsync();
        Assert.Contains(nodeName, Assert.Single(confirms));
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(screenshots, "console-cluster.png"), FullPage = true });
        await drained.Locator("button[data-action=cancel-drain]").ClickAsync();
        await Expect(drained).ToHaveAttributeAsync("data-draining", "false");

        // Sign out: back at the sign-in page, and the console is closed again.
        await page.Locator("#logout").ClickAsync();
        await Expect(page.Locator("#login-message")).ToHaveTextAsync("You are signed out.");
        await page.GotoAsync(new Uri(gateway, "/console/files").ToString());
        await Expect(page.Locator("#login-form")).ToBeVisibleAsync();

        Assert.Empty(scriptErrors);
    }

    /// <summary>Removes what the scenario created, whatever state it stopped in.</summary>
    private async Task DeleteThroughApiAsync(string folder)
    {
        using var http = new HttpClient { BaseAddress = gateway };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes(adminUser + ":" + adminPassword)));
        using var response = await http.DeleteAsync("/api/entries" + folder + "?recursive=true", CancellationToken.None);
    }
}
