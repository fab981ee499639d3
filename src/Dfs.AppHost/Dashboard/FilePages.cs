using System.Net;
using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Paths;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dfs.AppHost.Dashboard;

/// <summary>The file browser (/files?path=…): a directory's listing in pages, or a file's details and chunks.</summary>
internal static class FilePages
{
    private const int PageSize = 100;

    public static WebApplication MapFilePages(this WebApplication web)
    {
        web.MapGet("/files", BrowseAsync);
        return web;
    }

    private static async Task<IResult> BrowseAsync(string? path, string? cursor, HttpContext context, GatewayAccess gateway, CancellationToken ct)
    {
        if (!DfsPath.TryNormalize(string.IsNullOrEmpty(path) ? DfsPath.Root : path, out var target, out var pathError))
            return Html.ErrorPage(context, "files", "Invalid path", pathError, StatusCodes.Status400BadRequest, "/files", "Back to /");
        if (gateway.Unavailable() is { } why)
            return Html.Page(context, "Files", "files", Breadcrumb(target) + $"<p class=\"notice\" id=\"gateway-down\">{Html.E(why)}</p>",
                status: StatusCodes.Status503ServiceUnavailable);

        var api = gateway.Api();
        using var http = api.Http;
        try
        {
            var entry = await api.StatAsync(target, ct);
            if (entry.Kind == EntryKind.File) return Html.Page(context, entry.Name, "files", Details(entry));
            var page = await api.ListAsync(target, string.IsNullOrEmpty(cursor) ? null : cursor, PageSize, ct);
            return Html.Page(context, target, "files", Listing(target, page, cursor), Script);
        }
        catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return Html.ErrorPage(context, "files", "Not found", $"There is no file or directory at {target}.", StatusCodes.Status404NotFound,
                Html.FilesHref(DfsPath.Parent(target)), "Up to " + DfsPath.Parent(target));
        }
        catch (DfsApiException e)
        {
            return Html.ErrorPage(context, "files", "The gateway refused", e.Message, StatusCodes.Status502BadGateway, "/files", "Back to /");
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException && !ct.IsCancellationRequested)
        {
            return Html.ErrorPage(context, "files", "Gateway unreachable", $"The gateway did not answer: {e.Message}", StatusCodes.Status502BadGateway, "/files", "Back to /");
        }
    }

    private static string Breadcrumb(string path)
    {
        var html = new StringBuilder("<nav class=\"breadcrumb\" id=\"breadcrumb\" aria-label=\"Path\">");
        html.Append("<a href=\"").Append(Html.E(Html.FilesHref(DfsPath.Root))).Append("\" data-path=\"/\">Files</a>");
        var current = DfsPath.Root;
        foreach (var segment in DfsPath.Segments(path))
        {
            current = DfsPath.Combine(current, segment);
            html.Append("<span class=\"sep\">/</span>");
            html.Append("<a href=\"").Append(Html.E(Html.FilesHref(current))).Append("\" data-path=\"").Append(Html.E(current)).Append("\">")
                .Append(Html.E(segment)).Append("</a>");
        }
        return html.Append("</nav>").ToString();
    }

    private static string Listing(string directory, ListingPage page, string? cursor)
    {
        var html = new StringBuilder(Breadcrumb(directory));
        html.Append("<div class=\"toolbar\" id=\"file-tools\" data-path=\"").Append(Html.E(directory)).Append("\">");
        html.Append("<input type=\"text\" id=\"mkdir-name\" placeholder=\"New folder name\" aria-label=\"New folder name\">");
        html.Append("<button type=\"button\" id=\"mkdir-button\">Create folder</button><span class=\"spacer\"></span>");
        html.Append("<input type=\"file\" id=\"upload-file\" multiple aria-label=\"Files to upload\">");
        html.Append("<label><input type=\"checkbox\" id=\"upload-overwrite\"> Overwrite</label>");
        html.Append("<button type=\"button\" class=\"primary\" id=\"upload-button\">Upload</button>");
        html.Append("<span id=\"upload-status\" class=\"muted\"></span></div>");

        html.Append("<table id=\"listing\"><thead><tr><th>Name</th><th>Kind</th><th class=\"num\">Size</th><th class=\"num\">Version</th>");
        html.Append("<th>Modified</th><th></th></tr></thead><tbody>");
        if (page.Entries.Count == 0)
            html.Append("<tr id=\"empty-listing\"><td colspan=\"6\" class=\"muted\">").Append(cursor is null ? "This folder is empty." : "No more entries.").Append("</td></tr>");
        foreach (var entry in page.Entries)
        {
            var isFile = entry.Kind == EntryKind.File;
            html.Append("<tr data-name=\"").Append(Html.E(entry.Name)).Append("\" data-kind=\"").Append(isFile ? "file" : "directory").Append("\">");
            html.Append("<td><a href=\"").Append(Html.E(Html.FilesHref(entry.Path))).Append("\" data-entry>").Append(Html.E(entry.Name)).Append(isFile ? "" : "/").Append("</a></td>");
            html.Append("<td>").Append(isFile ? "file" : "directory").Append("</td>");
            html.Append("<td class=\"num\">").Append(isFile ? Html.E(Html.Bytes(entry.Size)) : "").Append("</td>");
            html.Append("<td class=\"num\">").Append(entry.Version is { } v ? Html.E(v) : "").Append("</td>");
            html.Append("<td>").Append(Html.E(Html.Timestamp(entry.ModifiedAt))).Append("</td>");
            html.Append("<td>");
            if (isFile)
                html.Append("<a href=\"").Append(Html.E(Html.DownloadHref(entry.Path))).Append("\" data-download=\"").Append(Html.E(entry.Path)).Append("\" download>Download</a>");
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table><p class=\"toolbar\">");
        if (cursor is not null) html.Append("<a id=\"first-page\" href=\"").Append(Html.E(Html.FilesHref(directory))).Append("\">First page</a>");
        if (page.NextCursor is { } next) html.Append("<a id=\"next-page\" href=\"").Append(Html.E(Html.FilesHref(directory, next))).Append("\">Next page →</a>");
        html.Append("</p>");
        return html.ToString();
    }

    private static string Details(EntryDetails file)
    {
        var html = new StringBuilder(Breadcrumb(file.Path));
        html.Append("<div class=\"toolbar\"><h1>").Append(Html.E(file.Name)).Append("</h1><span class=\"spacer\"></span>");
        html.Append("<a id=\"download\" href=\"").Append(Html.E(Html.DownloadHref(file.Path))).Append("\" download>Download</a></div>");
        html.Append("<dl class=\"details\" id=\"file-details\">");
        Detail(html, "path", "Path", file.Path);
        Detail(html, "size", "Size", $"{Html.Bytes(file.Size)} ({Html.Count(file.Size)} bytes)");
        Detail(html, "version", "Version", file.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
        Detail(html, "md5", "MD5", file.Md5 ?? "", mono: true);
        Detail(html, "sha256", "SHA-256", file.Sha256 ?? "", mono: true);
        Detail(html, "chunk-size", "Chunk size", file.ChunkSize is { } size ? Html.Bytes(size) : "");
        Detail(html, "created", "Created", Html.Timestamp(file.CreatedAt));
        Detail(html, "modified", "Modified", Html.Timestamp(file.ModifiedAt));
        html.Append("</dl>");

        html.Append("<h2>Chunks</h2><table id=\"chunks\"><thead><tr><th class=\"num\">#</th><th>Chunk (SHA-256)</th><th class=\"num\">Offset</th>");
        html.Append("<th class=\"num\">Size</th><th class=\"num\">Copies</th><th>Nodes</th></tr></thead><tbody>");
        if (file.Chunks.Count == 0) html.Append("<tr id=\"no-chunks\"><td colspan=\"6\" class=\"muted\">An empty file has no chunks.</td></tr>");
        foreach (var chunk in file.Chunks)
        {
            html.Append("<tr data-chunk=\"").Append(Html.E(chunk.Index)).Append("\" data-chunk-id=\"").Append(Html.E(chunk.Id)).Append("\">");
            html.Append("<td class=\"num\">").Append(Html.E(chunk.Index)).Append("</td>");
            html.Append("<td><code title=\"").Append(Html.E(chunk.Id)).Append("\">").Append(Html.E(chunk.Id.Length > 16 ? chunk.Id[..16] + "…" : chunk.Id)).Append("</code></td>");
            html.Append("<td class=\"num\">").Append(Html.Count(chunk.Offset)).Append("</td>");
            html.Append("<td class=\"num\">").Append(Html.E(Html.Bytes(chunk.Size))).Append("</td>");
            html.Append("<td class=\"num\">").Append(Html.E(chunk.Replicas.Count)).Append("</td><td>");
            foreach (var replica in chunk.Replicas.OrderBy(r => r.NodeName, StringComparer.Ordinal))
                html.Append("<span class=\"node badge node-").Append(Html.E(replica.NodeState)).Append("\" data-node=\"").Append(Html.E(replica.NodeName))
                    .Append("\" title=\"").Append(Html.E(replica.NodeUrl + " · " + replica.NodeState)).Append("\">").Append(Html.E(replica.NodeName)).Append("</span>");
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        return html.ToString();
    }

    private static void Detail(StringBuilder html, string field, string label, string value, bool mono = false) =>
        html.Append("<dt>").Append(Html.E(label)).Append("</dt><dd data-field=\"").Append(field).Append("\"").Append(mono ? " class=\"mono\"" : "").Append('>')
            .Append(Html.E(value)).Append("</dd>");

    private const string Script = """
        (() => {
          const tools = document.getElementById('file-tools');
          const directory = tools.dataset.path;
          const status = document.getElementById('upload-status');
          const join = name => (directory === '/' ? '' : directory) + '/' + name;

          document.getElementById('upload-button').addEventListener('click', async event => {
            const button = event.currentTarget;
            const files = [...document.getElementById('upload-file').files];
            if (files.length === 0) { dfs.message('Choose one or more files first.', 'error'); return; }
            const conflict = document.getElementById('upload-overwrite').checked ? 'overwrite' : 'fail';
            button.disabled = true;
            let done = 0;
            try {
              for (const file of files) {
                status.textContent = 'Uploading ' + file.name + ' (' + (done + 1) + ' of ' + files.length + ')…';
                // The File is the body: the browser streams it from disk, the dashboard streams it on to the gateway.
                await dfs.call('PUT', '/api/files/' + dfs.urlPath(join(file.name)) + '?conflict=' + conflict, file,
                  { 'Content-Type': 'application/octet-stream' });
                done++;
              }
              status.textContent = '';
              location.reload();
            } catch (e) {
              status.textContent = '';
              dfs.message('Upload failed after ' + done + ' of ' + files.length + ' files: ' + e.message, 'error');
              button.disabled = false;
            }
          });

          document.getElementById('mkdir-button').addEventListener('click', async () => {
            const name = document.getElementById('mkdir-name').value.trim();
            if (!name) { dfs.message('Type a folder name first.', 'error'); return; }
            try {
              await dfs.call('PUT', '/api/dirs/' + dfs.urlPath(join(name)) + '?parents=false');
              location.reload();
            } catch (e) {
              dfs.message('Creating the folder failed: ' + e.message, 'error');
            }
          });
        })();
        """;
}
