using Dfs.Contracts.AppHost;
using System.Text;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.Contracts.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dfs.AppHost.Dashboard;

/// <summary>The resources page (/) and each resource's console output (/resources/{name}/logs).</summary>
internal static class ResourcePages
{
    public static WebApplication MapResourcePages(this WebApplication web)
    {
        web.MapGet("/", ResourcesPage);
        web.MapGet("/resources/{name}/logs", LogsPage);
        return web;
    }

    private static IResult ResourcesPage(HttpContext context, DfsApplication app, RemovalTracker removals)
    {
        var now = DateTimeOffset.UtcNow;
        var byName = removals.All().ToDictionary(r => r.Name, StringComparer.Ordinal);
        var html = new StringBuilder();
        html.Append("<div class=\"toolbar\"><h1>Resources</h1><span class=\"spacer\"></span>");
        html.Append("<button type=\"button\" class=\"primary\" id=\"add-node\">Add storage node</button></div>");
        html.Append("<table id=\"resources\"><thead><tr><th>Name</th><th>Kind</th><th>State</th><th>Health</th><th class=\"num\">PID</th>");
        html.Append("<th>Endpoints</th><th class=\"num\">Uptime</th><th class=\"num\">Restarts</th><th class=\"num\">Exit code</th><th>Actions</th></tr></thead>");
        html.Append("<tbody id=\"resources-body\">");
        foreach (var resource in app.Resources)
        {
            var s = resource.Snapshot();
            AppendRow(html, DashboardViews.Resource(s, now), byName.GetValueOrDefault(s.Name));
        }
        html.Append("</tbody></table><ul id=\"removed-nodes\" class=\"muted\"></ul>");
        return Html.Page(context, "Resources", "resources", html.ToString(), Script);
    }

    /// <summary>The same markup the page's script builds (see <see cref="Script"/>): ids and data-* are what tests select on.</summary>
    private static void AppendRow(StringBuilder html, AppHostResource r, NodeRemoval? removal)
    {
        var name = Html.E(r.Name);
        html.Append("<tr id=\"resource-").Append(name).Append("\" data-resource=\"").Append(name).Append("\" data-kind=\"").Append(Html.E(r.Kind))
            .Append("\" data-state=\"").Append(Html.E(r.State)).Append("\">");
        html.Append("<td><a href=\"/resources/").Append(Uri.EscapeDataString(r.Name)).Append("/logs\" data-field=\"logs\">").Append(name).Append("</a></td>");
        html.Append("<td>").Append(Html.E(r.Kind)).Append("</td>");
        html.Append("<td><span id=\"state-").Append(name).Append("\" data-field=\"state\" class=\"badge state-").Append(Html.E(r.State)).Append("\">")
            .Append(Html.E(r.State)).Append("</span></td>");
        html.Append("<td><span data-field=\"health\" class=\"badge health-").Append(Html.E(r.Health)).Append("\">").Append(Html.E(r.Health)).Append("</span></td>");
        html.Append("<td class=\"num\" data-field=\"pid\">").Append(r.Pid?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "").Append("</td>");
        html.Append("<td data-field=\"url\">");
        if (r.Url is { } url)
        {
            if (url.StartsWith("http://", StringComparison.Ordinal) || url.StartsWith("https://", StringComparison.Ordinal))
                html.Append("<a href=\"").Append(Html.E(url)).Append("\" target=\"_blank\" rel=\"noopener\">").Append(Html.E(url)).Append("</a>");
            else
                html.Append("<code>").Append(Html.E(url)).Append("</code>");
        }
        html.Append("</td>");
        html.Append("<td class=\"num\" data-field=\"uptime\">").Append(r.UptimeSeconds is { } up ? Html.Duration(TimeSpan.FromSeconds(up)) : "").Append("</td>");
        html.Append("<td class=\"num\" data-field=\"restarts\">").Append(Html.E(r.Restarts)).Append("</td>");
        html.Append("<td class=\"num\" data-field=\"exitCode\">").Append(r.ExitCode?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "").Append("</td>");
        html.Append("<td class=\"actions\">");
        foreach (var action in Actions(r.Kind))
            html.Append("<button type=\"button\" data-action=\"").Append(action).Append("\" data-resource=\"").Append(name).Append('"')
                .Append(action == "remove" ? " class=\"danger\"" : "").Append('>').Append(char.ToUpperInvariant(action[0])).Append(action[1..]).Append("</button>");
        html.Append("<span class=\"removal\" data-field=\"removal\">").Append(removal is null ? "" : Html.E(RemovalText(removal))).Append("</span>");
        html.Append("</td></tr>");
    }

    private static IEnumerable<string> Actions(string kind) =>
        kind == ResourceKinds.StorageNode ? ["stop", "start", "restart", "remove"] : ["stop", "start", "restart"];

    private static string RemovalText(NodeRemoval r) =>
        r.Phase + (r.ChunksAtRisk >= 0 && r.Phase == NodeRemoval.Draining ? $" · {r.ChunksAtRisk} chunks at risk" : "") + (r.Error is { } e ? ": " + e : "");

    private static IResult LogsPage(string name, string? q, HttpContext context, DfsApplication app)
    {
        if (app.Find(name) is not { } resource)
            return Html.ErrorPage(context, "resources", "Unknown resource", $"There is no resource named '{name}'.", StatusCodes.Status404NotFound, "/", "Back to the resources");
        var state = resource.State.ToContractString();
        var page = ResourceEndpoints.ReadLogs(resource, 0, ResourceEndpoints.MaxLogLines, q);
        var html = new StringBuilder();
        html.Append("<section id=\"logs\" data-resource=\"").Append(Html.E(name)).Append("\" data-after=\"").Append(Html.E(page.Last)).Append("\">");
        html.Append("<div class=\"toolbar\"><h1>").Append(Html.E(name)).Append(" · console output</h1>");
        html.Append("<span id=\"log-state\" class=\"badge state-").Append(Html.E(state)).Append("\">").Append(Html.E(state)).Append("</span>");
        html.Append("<span class=\"spacer\"></span>");
        html.Append("<input type=\"search\" id=\"log-search\" placeholder=\"Filter lines\" aria-label=\"Filter lines\" value=\"").Append(Html.E(q)).Append("\">");
        html.Append("<label><input type=\"checkbox\" id=\"log-follow\" checked> Follow</label>");
        html.Append("<span id=\"log-count\" class=\"muted\"></span></div>");
        html.Append("<div class=\"logbox\" id=\"log-lines\">");
        foreach (var line in page.Lines)
        {
            html.Append("<div class=\"line\" data-seq=\"").Append(Html.E(line.Seq)).Append("\">");
            AppendHighlighted(html, line.Text, q);
            html.Append("</div>");
        }
        html.Append("</div><p class=\"muted\">The last 1000 lines are kept in memory; the whole output is in <code>")
            .Append(Html.E(Path.Combine(app.StateDirectory, "logs", name + ".log"))).Append("</code>.</p></section>");
        return Html.Page(context, name + " logs", "resources", html.ToString(), LogsScript);
    }

    private static void AppendHighlighted(StringBuilder html, string text, string? q)
    {
        if (string.IsNullOrEmpty(q))
        {
            html.Append(Html.E(text));
            return;
        }
        var at = 0;
        while (at < text.Length)
        {
            var hit = text.IndexOf(q, at, StringComparison.OrdinalIgnoreCase);
            if (hit < 0) break;
            html.Append(Html.E(text[at..hit])).Append("<mark>").Append(Html.E(text.Substring(hit, q.Length))).Append("</mark>");
            at = hit + q.Length;
        }
        html.Append(Html.E(text[at..]));
    }

    private const string Script = """
        (() => {
          const body = document.getElementById('resources-body');
          const removed = document.getElementById('removed-nodes');
          const busy = new Map();
          const httpUrl = /^https?:\/\//;

          const enabled = {
            stop: s => ['starting', 'running', 'unhealthy', 'exited'].includes(s),
            start: s => ['not-started', 'stopped', 'exited', 'failed'].includes(s),
            restart: s => ['running', 'unhealthy', 'exited', 'failed', 'stopped'].includes(s),
            remove: (s, removal) => s === 'running' && !(removal && (removal.phase === 'draining' || removal.phase === 'stopping'))
          };

          function removalText(r) {
            if (!r) return '';
            let text = r.phase;
            if (r.phase === 'draining' && r.chunksAtRisk >= 0) text += ' · ' + r.chunksAtRisk + ' chunks at risk';
            if (r.error) text += ': ' + r.error;
            return text;
          }

          function newRow(r) {
            const actions = r.kind === 'storage-node' ? ['stop', 'start', 'restart', 'remove'] : ['stop', 'start', 'restart'];
            return dfs.el('tr', { id: 'resource-' + r.name, 'data-resource': r.name, 'data-kind': r.kind },
              dfs.el('td', {}, dfs.el('a', { href: '/resources/' + encodeURIComponent(r.name) + '/logs', 'data-field': 'logs', text: r.name })),
              dfs.el('td', { text: r.kind }),
              dfs.el('td', {}, dfs.el('span', { id: 'state-' + r.name, 'data-field': 'state', class: 'badge' })),
              dfs.el('td', {}, dfs.el('span', { 'data-field': 'health', class: 'badge' })),
              dfs.el('td', { class: 'num', 'data-field': 'pid' }),
              dfs.el('td', { 'data-field': 'url' }),
              dfs.el('td', { class: 'num', 'data-field': 'uptime' }),
              dfs.el('td', { class: 'num', 'data-field': 'restarts' }),
              dfs.el('td', { class: 'num', 'data-field': 'exitCode' }),
              dfs.el('td', { class: 'actions' },
                actions.map(a => dfs.el('button', { type: 'button', 'data-action': a, 'data-resource': r.name, class: a === 'remove' ? 'danger' : null, text: a[0].toUpperCase() + a.slice(1) })),
                dfs.el('span', { class: 'removal', 'data-field': 'removal' })));
          }

          function setText(row, field, text) {
            const cell = row.querySelector('[data-field="' + field + '"]');
            if (cell.textContent !== text) cell.textContent = text;
          }

          function update(row, r, removal) {
            row.dataset.state = r.state;
            const state = row.querySelector('[data-field="state"]');
            state.textContent = r.state;
            state.className = 'badge state-' + r.state;
            const health = row.querySelector('[data-field="health"]');
            health.textContent = r.health || '';
            health.className = 'badge health-' + (r.health || 'unknown');
            setText(row, 'pid', r.pid === null ? '' : String(r.pid));
            const url = row.querySelector('[data-field="url"]');
            if ((url.dataset.url || '') !== (r.url || '')) {
              url.dataset.url = r.url || '';
              url.replaceChildren(!r.url ? '' : httpUrl.test(r.url)
                ? dfs.el('a', { href: r.url, target: '_blank', rel: 'noopener', text: r.url })
                : dfs.el('code', { text: r.url }));
            }
            setText(row, 'uptime', dfs.duration(r.uptimeSeconds));
            setText(row, 'restarts', String(r.restarts));
            setText(row, 'exitCode', r.exitCode === null ? '' : String(r.exitCode));
            setText(row, 'removal', removalText(removal));
            for (const button of row.querySelectorAll('button[data-action]'))
              button.disabled = busy.has(r.name) || !enabled[button.dataset.action](r.state, removal);
          }

          function render(resources, removals) {
            const byName = new Map(removals.map(r => [r.name, r]));
            const seen = new Set();
            let previous = null;
            for (const r of resources) {
              seen.add(r.name);
              let row = document.getElementById('resource-' + r.name);
              if (!row) row = newRow(r);
              // Keep the rows in the AppHost's order without rebuilding them (a rebuilt button can swallow a click).
              const expected = previous ? previous.nextSibling : body.firstChild;
              if (row !== expected) body.insertBefore(row, expected);
              update(row, r, byName.get(r.name));
              previous = row;
            }
            for (const row of [...body.querySelectorAll('tr[data-resource]')])
              if (!seen.has(row.dataset.resource)) row.remove();
            removed.replaceChildren(...removals.filter(r => !seen.has(r.name))
              .map(r => dfs.el('li', { 'data-removed': r.name, text: r.name + ': ' + removalText(r) })));
          }

          let timer;
          async function refresh() {
            clearTimeout(timer);
            try {
              const [resources, removals] = await Promise.all([dfs.call('GET', '/api/resources'), dfs.call('GET', '/api/removals')]);
              render(resources, removals);
            } catch (e) {
              dfs.message('Could not refresh: ' + e.message, 'error');
            }
            timer = setTimeout(refresh, 1000);
          }

          const verbs = { stop: 'Stopping', start: 'Starting', restart: 'Restarting', remove: 'Removing' };
          body.addEventListener('click', async event => {
            const button = event.target.closest('button[data-action]');
            if (!button || button.disabled) return;
            const name = button.dataset.resource, action = button.dataset.action;
            if (action === 'remove' && !confirm('Drain ' + name + ' (its chunks get copies on the other nodes), then stop and remove it?')) return;
            busy.set(name, action);
            for (const b of button.closest('tr').querySelectorAll('button')) b.disabled = true;
            dfs.message(verbs[action] + ' ' + name + '…');
            try {
              if (action === 'remove') await dfs.call('DELETE', '/api/nodes/' + encodeURIComponent(name));
              else await dfs.call('POST', '/api/resources/' + encodeURIComponent(name) + '/' + action);
              dfs.message(action === 'remove' ? name + ' is being drained; it is removed once its chunks have copies elsewhere.' : name + ': ' + action + ' done.', 'ok');
            } catch (e) {
              dfs.message(action + ' ' + name + ' failed: ' + e.message, 'error');
            } finally {
              busy.delete(name);
              refresh();
            }
          });

          document.getElementById('add-node').addEventListener('click', async event => {
            const button = event.currentTarget;
            button.disabled = true;
            dfs.message('Adding a storage node…');
            try {
              const added = await dfs.call('POST', '/api/nodes');
              dfs.message(added.name + ' added and running.', 'ok');
            } catch (e) {
              dfs.message('Adding a storage node failed: ' + e.message, 'error');
            } finally {
              button.disabled = false;
              refresh();
            }
          });

          refresh();
        })();
        """;

    private const string LogsScript = """
        (() => {
          const root = document.getElementById('logs');
          const name = root.dataset.resource;
          const box = document.getElementById('log-lines');
          const search = document.getElementById('log-search');
          const follow = document.getElementById('log-follow');
          const count = document.getElementById('log-count');
          const state = document.getElementById('log-state');
          const maxLines = 5000;
          let after = Number(root.dataset.after) || 0;
          let q = search.value;
          let generation = 0;
          let timer;

          function line(l) {
            const div = dfs.el('div', { class: 'line', 'data-seq': l.seq });
            const text = l.text;
            const lower = text.toLowerCase(), needle = q.toLowerCase();
            // Lower-casing can change lengths for a few scripts; then the line goes unmarked rather than mis-marked.
            if (!q || lower.length !== text.length) { div.textContent = text; return div; }
            let at = 0;
            for (let hit = lower.indexOf(needle); hit >= 0; hit = lower.indexOf(needle, at)) {
              div.append(text.slice(at, hit), dfs.el('mark', { text: text.slice(hit, hit + needle.length) }));
              at = hit + needle.length;
            }
            div.append(text.slice(at));
            return div;
          }

          function counted() {
            count.textContent = box.childElementCount + (q ? ' matching' : '') + ' lines';
          }

          async function poll() {
            const mine = generation;
            clearTimeout(timer);
            try {
              let url = '/api/resources/' + encodeURIComponent(name) + '/logs?after=' + after + '&max=1000';
              if (q) url += '&q=' + encodeURIComponent(q);
              const [page, resource] = await Promise.all([dfs.call('GET', url), dfs.call('GET', '/api/resources/' + encodeURIComponent(name))]);
              if (mine !== generation) return;
              const fragment = document.createDocumentFragment();
              for (const l of page.lines) fragment.append(line(l));
              box.append(fragment);
              while (box.childElementCount > maxLines) box.firstElementChild.remove();
              after = page.last;
              state.textContent = resource.state;
              state.className = 'badge state-' + resource.state;
              if (follow.checked && page.lines.length) box.scrollTop = box.scrollHeight;
              counted();
            } catch (e) {
              if (mine !== generation) return;
              dfs.message('Could not read the output: ' + e.message, 'error');
            }
            if (mine === generation) timer = setTimeout(poll, 1000);
          }

          let typing;
          search.addEventListener('input', () => {
            clearTimeout(typing);
            typing = setTimeout(() => {
              generation++;
              q = search.value;
              after = 0;
              box.replaceChildren();
              const address = new URL(location.href);
              if (q) address.searchParams.set('q', q); else address.searchParams.delete('q');
              history.replaceState(null, '', address);
              poll();
            }, 200);
          });

          counted();
          if (follow.checked) box.scrollTop = box.scrollHeight;
          timer = setTimeout(poll, 1000);
        })();
        """;
}
