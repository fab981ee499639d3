using System.Net;
using System.Text.RegularExpressions;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Auth;
using static Dfs.Gateway.Tests.Console.ConsoleKit;

namespace Dfs.Gateway.Tests.Console;

/// <summary>The cluster page: every node, the counts, the Replicator's error queues; drains for admins only.</summary>
public sealed partial class ConsoleClusterTests
{
    [Fact]
    public async Task The_cluster_page_shows_every_node_and_the_counts()
    {
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "node-a", "node-b");
        var api = AdminApi(gateway);
        // Three chunks of 64 KiB (the tests' chunk size), random so none is shared, and one more file.
        await api.PutFileAsync("/data/big.bin", new MemoryStream(System.Security.Cryptography.RandomNumberGenerator.GetBytes(3 * 65536 - 10)), ct: Ct);
        await api.PutFileAsync("/data/small.txt", new MemoryStream("hello"u8.ToArray()), ct: Ct);
        using var browser = await AdminAsync(gateway);

        var (status, html) = await browser.PageAsync("/console", Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("2", Metric(html, "files"));
        Assert.Equal("4", Metric(html, "chunks"));
        var summary = await api.GetClusterAsync(Ct);
        Assert.Equal(summary.Directories.ToString(System.Globalization.CultureInfo.InvariantCulture), Metric(html, "directories"));
        Assert.Equal("2", Metric(html, "live-nodes"));
        Assert.Equal("0", Metric(html, "dead-nodes"));
        foreach (var node in nodes)
        {
            var row = Row(html, node.Name);
            var info = await NodeAsync(gateway, node.Name);
            Assert.Contains($"data-node-id=\"{info.Id}\" data-state=\"live\" data-draining=\"false\"", row);
            Assert.Contains($"<td data-field=\"url\"><code>{node.Url.ToString().TrimEnd('/')}</code></td>", row);
            Assert.Matches("<meter min=\"0\" max=\"1073741824\" value=\"\\d+\"", row);
            Assert.Matches("<td class=\"num\" data-field=\"heartbeat\"[^>]*>\\d+ s ago</td>", row);
            Assert.Contains("<td class=\"num\" data-field=\"chunks\">0</td>", row); // as the node last reported (no heartbeat since)
        }
        Assert.Matches("data-metric=\"under-replicated\"><div class=\"label\">Under-replicated chunks</div><div class=\"value\">\\d+</div>", html);
        Assert.Contains("data-metric=\"backlog\"><div class=\"label\">Replication backlog</div>", html);
        Assert.Contains("data-metric=\"unreadable\"><div class=\"label\">Unreadable chunks</div><div class=\"value\">0</div>", html);
        // Embedded profile: no broker, so no error queues, and the page says why.
        Assert.Contains("id=\"error-queues\" data-state=\"no-broker\"", html);
        // An admin sees a Drain button on each node.
        Assert.Equal(2, Regex.Matches(html, "<button type=\"submit\" class=\"danger\" data-action=\"drain\">Drain</button>").Count);

        // The live refresh gets the same content alone.
        var (partialStatus, partial) = await browser.PageAsync("/console?partial=1", Ct);
        Assert.Equal(HttpStatusCode.OK, partialStatus);
        Assert.DoesNotContain("<html", partial);
        Assert.Contains("id=\"nodes\"", partial);
    }

    [Fact]
    public async Task The_error_queues_show_their_depths_or_why_they_cannot_be_read()
    {
        // The broker the AppHost runs for a local cluster (the machine's rabbitmq-server), alone, with three
        // messages the Replicator gave up on.
        await using var broker = await Dfs.Testing.DfsServer.StartRabbitMqAsync(Ct);
        var messaging = broker.ConnectionString;
        const string queue = Dfs.Replicator.Consumers.ReplicatorQueues.FileStored + Dfs.Replicator.Consumers.ReplicatorQueues.ErrorSuffix;
        await using (var connection = await new RabbitMQ.Client.ConnectionFactory { Uri = new Uri(messaging) }.CreateConnectionAsync(Ct))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
            for (var i = 0; i < 3; i++)
                await channel.BasicPublishAsync("", queue, mandatory: false, new RabbitMQ.Client.BasicProperties { Persistent = true }, "{}"u8.ToArray(), Ct);
        }

        await using (var gateway = StartGateway(g => g.With("ConnectionStrings:messaging", messaging)))
        {
            using var admin = await AdminAsync(gateway);
            var (_, html) = await admin.PageAsync("/console", Ct);
            Assert.Contains("<table id=\"error-queues\" data-state=\"read\">", html);
            Assert.Contains($"<tr data-queue=\"{queue}\" class=\"bad\"><td><code>{queue}</code></td><td class=\"num\" data-field=\"depth\">3</td></tr>", html);
            foreach (var other in Dfs.Gateway.Messaging.ErrorQueueInspector.Queues.Where(q => q != queue))
                Assert.Contains($"<tr data-queue=\"{other}\"><td><code>{other}</code></td><td class=\"num\" data-field=\"depth\">0</td></tr>", html);
        }

        // A broker nobody answers at: the page says the queues cannot be read, and why.
        var closed = new UriBuilder(messaging) { Port = FreePort() }.Uri.ToString();
        await using (var gateway = StartGateway(g => g.With("ConnectionStrings:messaging", closed)))
        {
            using var admin = await AdminAsync(gateway);
            var (status, html) = await admin.PageAsync("/console", Ct);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Matches("<p class=\"notice error\" id=\"error-queues\" data-state=\"unreadable\">The Replicator's error queues cannot be read: The message broker is unreachable: [^<]+</p>", html);
        }
    }

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task Only_admins_see_and_may_use_the_drain_buttons()
    {
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "node-a", "node-b");
        var nodeA = await NodeAsync(gateway, "node-a");
        await AuthKit.CreateUserAsync(gateway, "alice");
        using var alice = Browser(gateway);
        await alice.SignedInAsync("alice", AuthKit.PasswordOf("alice"), Ct);

        var (_, page) = await alice.PageAsync("/console", Ct);
        Assert.Contains("data-node=\"node-a\"", page);
        Assert.DoesNotContain("data-action=\"drain\"", page);
        Assert.DoesNotContain("<th>Actions</th>", page);
        // Posting it anyway, with her own valid page token: 403, and the node is not draining.
        using (var refused = await alice.PostFormAsync($"/console/nodes/{nodeA.Id}/drain", Ct))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("Only an admin may do this.", ConsoleClient.ErrorOf(await refused.Content.ReadAsStringAsync(Ct)));
        }
        using (var refused = await alice.PostFormAsync($"/console/nodes/{nodeA.Id}/drain/cancel", Ct))
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.False((await NodeAsync(gateway, "node-a")).Draining);

        // An admin drains node-a from the page, sees the drain's progress, and cancels it.
        using var admin = await AdminAsync(gateway);
        using (var drained = await admin.PostFormAsync($"/console/nodes/{nodeA.Id}/drain", Ct))
        {
            Assert.Equal(HttpStatusCode.SeeOther, drained.StatusCode);
            Assert.Equal($"/console#node-{nodeA.Id}", drained.Headers.Location?.OriginalString);
        }
        Assert.True((await NodeAsync(gateway, "node-a")).Draining);
        var (_, draining) = await admin.PageAsync("/console", Ct);
        var row = Row(draining, "node-a");
        Assert.Contains("data-draining=\"true\"", row);
        // Nothing stored: nothing at risk, so the drain is done at once.
        Assert.Contains("<span data-field=\"at-risk\" data-at-risk=\"0\" data-held=\"0\">nothing at risk: safe to stop and remove</span>", row);
        Assert.Contains("data-action=\"cancel-drain\">Cancel drain</button>", row);
        Assert.Contains("data-metric=\"draining-nodes\"><div class=\"label\">Draining nodes</div><div class=\"value\">1</div>", draining);
        // …which alice sees too, still without buttons.
        var (_, seen) = await alice.PageAsync("/console", Ct);
        Assert.Contains("data-draining=\"true\"", Row(seen, "node-a"));
        Assert.DoesNotContain("cancel-drain", seen);

        using (var cancelled = await admin.PostFormAsync($"/console/nodes/{nodeA.Id}/drain/cancel", Ct))
            Assert.Equal(HttpStatusCode.SeeOther, cancelled.StatusCode);
        Assert.False((await NodeAsync(gateway, "node-a")).Draining);

        // An unknown node is a page saying so, not a 500.
        using var unknown = await admin.PostFormAsync("/console/nodes/no-such-node/drain", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("No storage node has the id or name 'no-such-node'.", ConsoleClient.ErrorOf(await unknown.Content.ReadAsStringAsync(Ct)));
    }

    [Fact]
    public async Task A_drain_shows_the_chunks_still_at_risk()
    {
        await using var gateway = StartGateway(g => g.With("Dfs:Gateway:ReplicationFactor", "1"));
        await using var nodes = await NodesAsync(gateway, "node-a");
        var api = AdminApi(gateway);
        await api.PutFileAsync("/one.bin", new MemoryStream(new byte[70_000]), ct: Ct);
        var node = await NodeAsync(gateway, "node-a");
        using var admin = await AdminAsync(gateway);

        using (var drained = await admin.PostFormAsync($"/console/nodes/{node.Id}/drain", Ct))
            Assert.Equal(HttpStatusCode.SeeOther, drained.StatusCode);
        // Its only node draining, nowhere to copy to: both chunks stay at risk.
        var (_, page) = await admin.PageAsync("/console", Ct);
        Assert.Contains("<span data-field=\"at-risk\" data-at-risk=\"2\" data-held=\"2\">2 of 2 chunks at risk</span>", Row(page, "node-a"));
        Assert.Contains("<progress max=\"2\" value=\"0\"></progress>", Row(page, "node-a"));
    }

    [Fact]
    public async Task Every_console_answer_carries_the_security_headers()
    {
        await using var gateway = StartGateway();
        await AdminApi(gateway).PutFileAsync("/empty.txt", new MemoryStream(), ct: Ct);
        using var anonymous = Browser(gateway);
        using var admin = await AdminAsync(gateway);
        var answers = new List<(string What, HttpResponseMessage Response)>
        {
            ("sign-in page", await anonymous.GetAsync("/console/login", Ct)),
            ("redirect to sign-in", await anonymous.GetAsync("/console", Ct)),
            ("script", await anonymous.GetAsync("/console/assets/console.js", Ct)),
            ("stylesheet", await anonymous.GetAsync("/console/assets/console.css", Ct)),
            ("cluster page", await admin.GetAsync("/console", Ct)),
            ("files page", await admin.GetAsync("/console/files?path=%2F", Ct)),
            ("download", await admin.GetAsync("/console/download?path=%2Fempty.txt", Ct)),
            ("error page", await admin.GetAsync("/console/files?path=%2Fmissing", Ct)),
            ("unknown page", await admin.GetAsync("/console/nowhere", Ct)),
            ("refused post", await admin.PostFormAsync("/console/mkdir", Ct, token: "")),
        };
        try
        {
            foreach (var (what, response) in answers)
            {
                var headers = response.Headers;
                Assert.True(headers.TryGetValues("Content-Security-Policy", out var csp), what);
                Assert.Equal("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                             + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'", Assert.Single(csp));
                Assert.Equal("nosniff", Assert.Single(headers.GetValues("X-Content-Type-Options")));
                Assert.Equal("DENY", Assert.Single(headers.GetValues("X-Frame-Options")));
                Assert.Equal("same-origin", Assert.Single(headers.GetValues("Referrer-Policy")));
            }
            Assert.Equal(HttpStatusCode.NotFound, answers.Single(a => a.What == "unknown page").Response.StatusCode);
            Assert.True(answers.Single(a => a.What == "cluster page").Response.Headers.CacheControl?.NoStore);
            Assert.True(answers.Single(a => a.What == "download").Response.Headers.CacheControl?.NoStore);
            Assert.Equal("text/javascript; charset=utf-8", answers.Single(a => a.What == "script").Response.Content.Headers.ContentType?.ToString());
            // No inline script or style anywhere: the CSP would block it.
            var page = await answers.Single(a => a.What == "cluster page").Response.Content.ReadAsStringAsync(Ct);
            Assert.DoesNotContain("<script>", page);
            Assert.DoesNotContain(" style=", page);
            Assert.Contains("<script src=\"/console/assets/console.js\"></script>", page);
        }
        finally
        {
            foreach (var (_, response) in answers) response.Dispose();
        }
    }

    [Fact]
    public async Task The_console_is_not_in_the_openapi_document()
    {
        await using var gateway = StartGateway();
        using var http = gateway.CreateClient();
        var document = await http.GetStringAsync("/openapi/v1.json", Ct);
        Assert.Contains("\"/api/files/{path}\"", document);
        Assert.DoesNotContain("/console", document);
    }

    private static string Metric(string html, string metric)
    {
        var match = Regex.Match(html, $"data-metric=\"{metric}\"><div class=\"label\">[^<]*</div><div class=\"value\">([^<]*)</div>");
        Assert.True(match.Success, $"no {metric} card");
        return match.Groups[1].Value;
    }

    /// <summary>The nodes table's row of <paramref name="node"/>.</summary>
    internal static string Row(string html, string node)
    {
        var match = Regex.Match(html, $"<tr id=\"node-[^\"]+\" data-node=\"{Regex.Escape(node)}\".*?</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no row for {node}");
        return match.Value;
    }
}
