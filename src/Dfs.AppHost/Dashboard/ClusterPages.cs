using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dfs.AppHost.Dashboard;

/// <summary>The cluster as the gateway sees it (/cluster): nodes, totals, replication health.</summary>
internal static class ClusterPages
{
    public static WebApplication MapClusterPages(this WebApplication web)
    {
        // ?partial=1 answers only the content, which the page's script swaps in every 2 s.
        web.MapGet("/cluster", async (string? partial, HttpContext context, GatewayAccess gateway, CancellationToken ct) =>
        {
            var content = await RenderContentAsync(gateway, ct);
            if (partial is "1" or "true")
                return Results.Content(content, "text/html; charset=utf-8", Encoding.UTF8);
            var html = "<div class=\"toolbar\"><h1>Cluster</h1><span class=\"spacer\"></span><span class=\"muted\" id=\"cluster-updated\"></span></div>"
                + "<div id=\"cluster-content\">" + content + "</div>";
            return Html.Page(context, "Cluster", "cluster", html, Script);
        });
        return web;
    }

    /// <summary>GET /api/nodes as the dashboard reads it: tolerant of fields being added (draining).</summary>
    private sealed record NodeRow(
        string Name,
        string Url,
        string State,
        long CapacityBytes,
        long FreeBytes,
        long UsedBytes,
        long ChunkCount,
        DateTime LastHeartbeatAt,
        bool Draining);

    private static async Task<string> RenderContentAsync(GatewayAccess gateway, CancellationToken ct)
    {
        if (gateway.Unavailable() is { } why)
            return $"<p class=\"notice\" id=\"gateway-down\">{Html.E(why)}</p>";

        var api = gateway.Api();
        using var http = api.Http;
        var nodesTask = http.GetFromJsonAsync<List<NodeRow>>(ApiRoutes.Nodes, DfsJson.Options, ct);
        var summaryTask = api.GetClusterAsync(ct);
        var replicationTask = http.GetFromJsonAsync<ReplicationStatus>(ApiRoutes.Replication, DfsJson.Options, ct);
        try
        {
            await Task.WhenAll(nodesTask, summaryTask);
        }
        catch (Exception e) when (e is HttpRequestException or DfsApiException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            return $"<p class=\"notice error\" id=\"gateway-down\">The gateway did not answer: {Html.E(e.Message)}</p>";
        }
        ReplicationStatus? replication = null;
        string? replicationError = null;
        try
        {
            replication = await replicationTask;
        }
        catch (Exception e) when (e is HttpRequestException or DfsApiException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            replicationError = e.Message;
        }

        var nodes = nodesTask.Result ?? [];
        var summary = summaryTask.Result;
        var now = DateTime.UtcNow;
        var html = new StringBuilder();

        html.Append("<h2>Totals</h2><div class=\"cards\" id=\"cluster-totals\">");
        Card(html, "files", "Files", Html.Count(summary.Files));
        Card(html, "directories", "Directories", Html.Count(summary.Directories));
        Card(html, "chunks", "Chunks", Html.Count(summary.Chunks));
        Card(html, "stored-bytes", "Stored", Html.Bytes(summary.StoredBytes));
        Card(html, "capacity-bytes", "Capacity", Html.Bytes(summary.CapacityBytes));
        Card(html, "free-bytes", "Free", Html.Bytes(summary.FreeBytes));
        Card(html, "live-nodes", "Live nodes", Html.Count(summary.LiveNodes));
        Card(html, "dead-nodes", "Dead nodes", Html.Count(summary.DeadNodes), bad: summary.DeadNodes > 0);
        Card(html, "draining-nodes", "Draining nodes", Html.Count(nodes.Count(n => n.Draining)));
        Card(html, "replication-factor", "Replication factor", Html.Count(summary.ReplicationFactor));
        Card(html, "chunk-size", "Chunk size", Html.Bytes(summary.ChunkSize));
        html.Append("</div>");

        html.Append("<h2>Replication</h2>");
        if (replication is null)
        {
            html.Append("<p class=\"notice error\" id=\"replication-error\">The replication status is not available: ").Append(Html.E(replicationError)).Append("</p>");
        }
        else
        {
            html.Append("<div class=\"cards\" id=\"replication\">");
            Card(html, "under-replicated", "Under-replicated chunks", Html.Count(replication.UnderReplicatedChunks), bad: replication.UnderReplicatedChunks > 0);
            Card(html, "backlog", "Replication backlog", Html.Count(replication.RepairableChunks), bad: replication.RepairableChunks > 0);
            Card(html, "unreadable", "Unreadable chunks", Html.Count(replication.UnreadableChunks), bad: replication.UnreadableChunks > 0);
            Card(html, "target", "Default copies", Html.Count(replication.DefaultReplicationFactor));
            html.Append("</div>");
            if (replication.MessagingError is { } messagingError)
                html.Append("<p class=\"notice error\" id=\"messaging-error\">Messaging: ").Append(Html.E(messagingError)).Append("</p>");
            html.Append("<h2>Error queues</h2>");
            if (replication.ErrorQueues is null)
                html.Append("<p class=\"muted\" id=\"error-queues\">No broker: the Replicator runs inside the gateway, on its in-process bus.</p>");
            else if (replication.ErrorQueues.Count == 0)
                html.Append("<p class=\"muted\" id=\"error-queues\">No error queues: no message has failed for good.</p>");
            else
            {
                html.Append("<table id=\"error-queues\"><thead><tr><th>Queue</th><th class=\"num\">Messages</th></tr></thead><tbody>");
                foreach (var (queue, count) in replication.ErrorQueues.OrderBy(q => q.Key, StringComparer.Ordinal))
                    html.Append("<tr data-queue=\"").Append(Html.E(queue)).Append("\"><td><code>").Append(Html.E(queue)).Append("</code></td><td class=\"num\">")
                        .Append(Html.Count(count)).Append("</td></tr>");
                html.Append("</tbody></table>");
            }
        }

        html.Append("<h2>Nodes</h2><table id=\"nodes\"><thead><tr><th>Name</th><th>State</th><th>Draining</th><th>Capacity</th>");
        html.Append("<th class=\"num\">Chunks</th><th class=\"num\">Last heartbeat</th><th>Url</th></tr></thead><tbody>");
        if (nodes.Count == 0) html.Append("<tr id=\"no-nodes\"><td colspan=\"7\" class=\"muted\">No storage node has registered.</td></tr>");
        foreach (var node in nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
        {
            var name = Html.E(node.Name);
            var ago = (long)Math.Max(0, (now - AsUtc(node.LastHeartbeatAt)).TotalSeconds);
            html.Append("<tr data-node=\"").Append(name).Append("\" data-state=\"").Append(Html.E(node.State)).Append("\" data-draining=\"")
                .Append(node.Draining ? "true" : "false").Append("\">");
            html.Append("<td>").Append(name).Append("</td>");
            html.Append("<td><span class=\"badge node-").Append(Html.E(node.State)).Append("\">").Append(Html.E(node.State)).Append("</span></td>");
            html.Append("<td>").Append(node.Draining ? "<span class=\"badge draining\">draining</span>" : "").Append("</td>");
            // The bar is the node's disk (other files on it count too); the text says what Dfs itself stores there.
            var diskUsed = Math.Max(0, node.CapacityBytes - node.FreeBytes);
            html.Append("<td data-field=\"capacity\"><meter min=\"0\" max=\"").Append(Html.E(Math.Max(1, node.CapacityBytes))).Append("\" value=\"").Append(Html.E(diskUsed))
                .Append("\" title=\"").Append(Html.E($"{Html.Bytes(diskUsed)} of {Html.Bytes(node.CapacityBytes)} used")).Append("\"></meter> ")
                .Append(Html.E(Html.Bytes(node.UsedBytes))).Append(" in chunks · ").Append(Html.E(Html.Bytes(node.FreeBytes))).Append(" free of ")
                .Append(Html.E(Html.Bytes(node.CapacityBytes))).Append("</td>");
            html.Append("<td class=\"num\" data-field=\"chunks\">").Append(Html.Count(node.ChunkCount)).Append("</td>");
            html.Append("<td class=\"num\" data-field=\"heartbeat\">").Append(ago.ToString(CultureInfo.InvariantCulture)).Append(" s ago</td>");
            html.Append("<td><code>").Append(Html.E(node.Url)).Append("</code></td></tr>");
        }
        html.Append("</tbody></table>");
        return html.ToString();
    }

    private static DateTime AsUtc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };

    private static void Card(StringBuilder html, string metric, string label, string value, bool bad = false) =>
        html.Append("<div class=\"card").Append(bad ? " bad" : "").Append("\" data-metric=\"").Append(metric).Append("\"><div class=\"label\">")
            .Append(Html.E(label)).Append("</div><div class=\"value\">").Append(Html.E(value)).Append("</div></div>");

    private const string Script = """
        (() => {
          const content = document.getElementById('cluster-content');
          const updated = document.getElementById('cluster-updated');
          const stamp = () => updated.textContent = 'updated ' + new Date().toLocaleTimeString();
          async function refresh() {
            try {
              const response = await fetch('/cluster?partial=1', { cache: 'no-store', credentials: 'same-origin' });
              if (response.redirected || response.status === 401) { location.reload(); return; }
              if (response.ok) { content.innerHTML = await response.text(); stamp(); dfs.message(''); }
              else dfs.message('Could not refresh: ' + response.status + ' ' + response.statusText, 'error');
            } catch (e) {
              dfs.message('Could not refresh: ' + e.message, 'error');
            }
            setTimeout(refresh, 2000);
          }
          stamp();
          setTimeout(refresh, 2000);
        })();
        """;
}
