using System.Text;
using Dfs.Contracts.Api;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Cluster;
using Dfs.Gateway.Data;
using Dfs.Gateway.Messaging;
using Dfs.Gateway.Nodes;
using Dfs.Gateway.Replication;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Console;

/// <summary>
/// /console: the cluster as the gateway sees it (nodes, totals, replication health, the Replicator's error
/// queues), refreshed in place by the page's script; for admins, each node's Drain / Cancel drain.
/// </summary>
internal static class ClusterPage
{
    public static RouteGroupBuilder MapClusterPage(this RouteGroupBuilder console)
    {
        // ?partial=1 answers only the content, which the page's script swaps in every few seconds.
        console.MapGet("/", async (string? partial, HttpContext context, [AsParameters] ClusterPageData data, CancellationToken ct) =>
        {
            var content = await RenderContentAsync(context, data, ct);
            if (partial is "1") return Results.Content(content, ConsoleHtml.Html, Encoding.UTF8);
            var html = "<div class=\"toolbar\"><h1>Cluster</h1><span class=\"spacer\"></span><span class=\"muted\" id=\"cluster-updated\"></span></div>"
                       + "<div id=\"cluster-content\" data-refresh=\"" + ConsoleRoutes.Cluster + "?partial=1\">" + content + "</div>";
            return ConsoleHtml.Page(context, "Cluster", "cluster", html);
        });

        console.MapPost("/nodes/{node}/drain", async (string node, NodeDrains drains, EventPublisher events, TimeProvider clock, CancellationToken ct) =>
            {
                var target = drains.Resolve(node);
                await NodeEndpoints.StartDrainAsync(drains, target, events, clock, ct);
                return ConsoleHtml.SeeOther(ConsoleRoutes.Cluster + "#node-" + target.Id);
            })
            .RequireAuthorization(AuthExtensions.AdminPolicy).AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);

        console.MapPost("/nodes/{node}/drain/cancel", async (string node, NodeDrains drains, CancellationToken ct) =>
            {
                var target = drains.Resolve(node);
                await drains.CancelAsync(target, ct);
                return ConsoleHtml.SeeOther(ConsoleRoutes.Cluster + "#node-" + target.Id);
            })
            .RequireAuthorization(AuthExtensions.AdminPolicy).AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);
        return console;
    }

    /// <summary>The services the page reads, resolved per request (the queries are scoped).</summary>
    internal sealed record ClusterPageData(
        MetadataDbContext Db,
        NodeRegistry Registry,
        ReplicationQueries Replication,
        NodeDrains Drains,
        ErrorQueueInspector ErrorQueues,
        IOptions<GatewayOptions> Options,
        TimeProvider Clock);

    private static async Task<string> RenderContentAsync(HttpContext context, ClusterPageData data, CancellationToken ct)
    {
        var caller = context.GetCaller();
        var nodes = data.Registry.Snapshot();
        var summary = await ClusterEndpoints.SummarizeAsync(data.Db, nodes, data.Options.Value, ct);
        var counts = await data.Replication.CountAsync(ct);
        var (queues, queueError) = await data.ErrorQueues.DepthsAsync(ct);
        var drainStatus = new Dictionary<Guid, NodeDrainStatus>();
        foreach (var node in nodes.Where(n => n.Draining)) drainStatus[node.Id] = await data.Drains.StatusAsync(node, ct);
        var now = data.Clock.GetUtcNow().UtcDateTime;

        var html = new StringBuilder(8192);
        html.Append("<h2>Totals</h2><div class=\"cards\" id=\"cluster-totals\">");
        Card(html, "files", "Files", ConsoleHtml.Count(summary.Files));
        Card(html, "directories", "Folders", ConsoleHtml.Count(summary.Directories));
        Card(html, "chunks", "Chunks", ConsoleHtml.Count(summary.Chunks));
        Card(html, "stored-bytes", "Stored", ConsoleHtml.Bytes(summary.StoredBytes));
        Card(html, "capacity-bytes", "Capacity", ConsoleHtml.Bytes(summary.CapacityBytes));
        Card(html, "free-bytes", "Free", ConsoleHtml.Bytes(summary.FreeBytes));
        Card(html, "live-nodes", "Live nodes", ConsoleHtml.Count(summary.LiveNodes));
        Card(html, "dead-nodes", "Dead nodes", ConsoleHtml.Count(summary.DeadNodes), bad: summary.DeadNodes > 0);
        Card(html, "draining-nodes", "Draining nodes", ConsoleHtml.Count(summary.DrainingNodes));
        Card(html, "replication-factor", "Default copies", ConsoleHtml.Count(summary.ReplicationFactor));
        Card(html, "chunk-size", "Chunk size", ConsoleHtml.Bytes(summary.ChunkSize));
        html.Append("</div>");

        html.Append("<h2>Replication</h2><div class=\"cards\" id=\"replication\">");
        Card(html, "under-replicated", "Under-replicated chunks", ConsoleHtml.Count(counts.UnderReplicated), bad: counts.UnderReplicated > 0);
        Card(html, "backlog", "Replication backlog", ConsoleHtml.Count(counts.Repairable), bad: counts.Repairable > 0);
        Card(html, "unreadable", "Unreadable chunks", ConsoleHtml.Count(counts.Unreadable), bad: counts.Unreadable > 0);
        html.Append("</div>");

        html.Append("<h2>Error queues</h2>");
        if (queueError is not null)
            html.Append("<p class=\"notice error\" id=\"error-queues\" data-state=\"unreadable\">The Replicator's error queues cannot be read: ")
                .Append(ConsoleHtml.E(queueError)).Append("</p>");
        else if (queues is null)
            html.Append("<p class=\"muted\" id=\"error-queues\" data-state=\"no-broker\">No message broker: the Replicator runs inside the gateway on its in-process bus, which has no error queues.</p>");
        else
        {
            html.Append("<table id=\"error-queues\" data-state=\"read\"><thead><tr><th>Queue</th><th class=\"num\">Messages</th></tr></thead><tbody>");
            foreach (var (queue, depth) in queues.OrderBy(q => q.Key, StringComparer.Ordinal))
                html.Append("<tr data-queue=\"").Append(ConsoleHtml.E(queue)).Append("\"").Append(depth > 0 ? " class=\"bad\"" : "").Append("><td><code>")
                    .Append(ConsoleHtml.E(queue)).Append("</code></td><td class=\"num\" data-field=\"depth\">").Append(ConsoleHtml.Count(depth)).Append("</td></tr>");
            html.Append("</tbody></table>");
        }

        html.Append("<h2>Nodes</h2><table id=\"nodes\"><thead><tr><th>Name</th><th>State</th><th>URL</th><th>Used / capacity</th>");
        html.Append("<th class=\"num\">Chunks</th><th class=\"num\">Last heartbeat</th><th>Draining</th>");
        if (caller.IsAdmin) html.Append("<th>Actions</th>");
        html.Append("</tr></thead><tbody>");
        if (nodes.Count == 0)
            html.Append("<tr id=\"no-nodes\"><td colspan=\"").Append(caller.IsAdmin ? 8 : 7).Append("\" class=\"muted\">No storage node has registered.</td></tr>");
        foreach (var node in nodes)
            NodeRow(html, context, node, drainStatus.GetValueOrDefault(node.Id), now, caller.IsAdmin);
        html.Append("</tbody></table>");
        return html.ToString();
    }

    private static void NodeRow(StringBuilder html, HttpContext context, NodeView node, NodeDrainStatus? drain, DateTime now, bool isAdmin)
    {
        var name = ConsoleHtml.E(node.Name);
        html.Append("<tr id=\"node-").Append(node.Id).Append("\" data-node=\"").Append(name).Append("\" data-node-id=\"").Append(node.Id)
            .Append("\" data-state=\"").Append(ConsoleHtml.E(node.State)).Append("\" data-draining=\"").Append(node.Draining ? "true" : "false").Append("\">");
        html.Append("<td data-field=\"name\">").Append(name).Append("</td>");
        html.Append("<td data-field=\"state\"><span class=\"badge node-").Append(ConsoleHtml.E(node.State)).Append("\">").Append(ConsoleHtml.E(node.State)).Append("</span></td>");
        html.Append("<td data-field=\"url\"><code>").Append(ConsoleHtml.E(node.Url.ToString().TrimEnd('/'))).Append("</code></td>");

        // The meter is the node's disk (other files on it count too); the text says what Dfs itself keeps there.
        var usage = node.Usage;
        var diskUsed = Math.Clamp(usage.CapacityBytes - usage.FreeBytes, 0, Math.Max(0, usage.CapacityBytes));
        html.Append("<td data-field=\"capacity\"><meter min=\"0\" max=\"").Append(ConsoleHtml.E(Math.Max(1, usage.CapacityBytes)))
            .Append("\" value=\"").Append(ConsoleHtml.E(diskUsed)).Append("\" high=\"").Append(ConsoleHtml.E(Math.Max(1, usage.CapacityBytes) * 9 / 10))
            .Append("\" title=\"").Append(ConsoleHtml.E($"{ConsoleHtml.Bytes(diskUsed)} of {ConsoleHtml.Bytes(usage.CapacityBytes)} used")).Append("\"></meter> ")
            .Append("<span data-field=\"used\">").Append(ConsoleHtml.E(ConsoleHtml.Bytes(usage.UsedBytes))).Append(" in chunks</span> · ")
            .Append(ConsoleHtml.E(ConsoleHtml.Bytes(usage.FreeBytes))).Append(" free of ").Append(ConsoleHtml.E(ConsoleHtml.Bytes(usage.CapacityBytes))).Append("</td>");
        html.Append("<td class=\"num\" data-field=\"chunks\">").Append(ConsoleHtml.Count(usage.ChunkCount)).Append("</td>");
        var silence = now - ConsoleHtml.AsUtc(node.LastHeartbeatAt);
        html.Append("<td class=\"num\" data-field=\"heartbeat\" title=\"").Append(ConsoleHtml.E(ConsoleHtml.Timestamp(node.LastHeartbeatAt))).Append("\">")
            .Append(ConsoleHtml.E(Age(silence))).Append("</td>");

        html.Append("<td data-field=\"draining\">");
        if (drain is not null)
        {
            html.Append("<span class=\"badge draining\">").Append(drain.Drained ? "drained" : "draining").Append("</span> ");
            html.Append("<progress max=\"").Append(ConsoleHtml.E(Math.Max(1, drain.ChunksHeld))).Append("\" value=\"")
                .Append(ConsoleHtml.E(drain.ChunksHeld == 0 ? 1 : drain.ChunksHeld - drain.ChunksAtRisk)).Append("\"></progress> ");
            html.Append("<span data-field=\"at-risk\" data-at-risk=\"").Append(ConsoleHtml.E(drain.ChunksAtRisk)).Append("\" data-held=\"")
                .Append(ConsoleHtml.E(drain.ChunksHeld)).Append("\">")
                .Append(ConsoleHtml.E(drain.Drained
                    ? "nothing at risk: safe to stop and remove"
                    : $"{ConsoleHtml.Count(drain.ChunksAtRisk)} of {ConsoleHtml.Count(drain.ChunksHeld)} chunks at risk"))
                .Append("</span>");
        }
        html.Append("</td>");

        if (isAdmin)
        {
            html.Append("<td class=\"actions\">");
            if (node.Draining)
                ActionForm(html, context, ConsoleRoutes.CancelDrain(node.Id), "cancel-drain", "Cancel drain", confirm: null);
            else
                ActionForm(html, context, ConsoleRoutes.Drain(node.Id), "drain", "Drain",
                    $"Drain {node.Name}? It takes no new chunks, and the Replicator copies everything it holds to other nodes.");
            html.Append("</td>");
        }
        html.Append("</tr>");
    }

    private static void ActionForm(StringBuilder html, HttpContext context, string action, string name, string label, string? confirm)
    {
        html.Append("<form method=\"post\" action=\"").Append(ConsoleHtml.E(action)).Append("\" data-action=\"").Append(name).Append('"');
        if (confirm is not null) html.Append(" data-confirm=\"").Append(ConsoleHtml.E(confirm)).Append('"');
        html.Append('>').Append(ConsoleHtml.TokenField(context)).Append("<button type=\"submit\" class=\"danger\" data-action=\"").Append(name).Append("\">")
            .Append(label).Append("</button></form>");
    }

    private static string Age(TimeSpan span)
    {
        var seconds = (long)Math.Max(0, span.TotalSeconds);
        return seconds switch
        {
            < 120 => $"{seconds} s ago",
            < 7200 => $"{seconds / 60} min ago",
            < 172_800 => $"{seconds / 3600} h ago",
            _ => $"{seconds / 86_400} days ago",
        };
    }

    private static void Card(StringBuilder html, string metric, string label, string value, bool bad = false) =>
        html.Append("<div class=\"card").Append(bad ? " bad" : "").Append("\" data-metric=\"").Append(metric).Append("\"><div class=\"label\">")
            .Append(ConsoleHtml.E(label)).Append("</div><div class=\"value\">").Append(ConsoleHtml.E(value)).Append("</div></div>");
}
