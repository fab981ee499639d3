using System.Text;
using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Dfs.Contracts.Paths;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Files;
using Dfs.Gateway.Http;
using Dfs.Gateway.Namespace;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Dfs.Gateway.Console;

/// <summary>
/// /console/files: folders in pages, a file's details with where each chunk lives; downloads and uploads that
/// stream through the gateway's own download and upload paths; new folders. The caller's access decides
/// everything exactly as on the API (the same <see cref="AccessControl"/>, checked before a path is looked up).
/// </summary>
internal static class FileBrowser
{
    private const int PageSize = 100;

    public static RouteGroupBuilder MapFileBrowser(this RouteGroupBuilder console)
    {
        console.MapGet("/files", BrowseAsync);
        console.MapGet("/download", DownloadAsync);
        console.MapPost("/upload", UploadAsync).AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);
        console.MapPost("/mkdir", MkdirAsync).AddEndpointFilter(ConsoleSecurity.RequireAntiforgeryAsync);
        return console;
    }

    /// <summary>A path from the query or a form; <paramref name="missing"/> when there is none (null: one is required).</summary>
    private static string ParsePath(string? raw, string? missing)
    {
        if (string.IsNullOrEmpty(raw))
            return missing ?? throw DfsProblemException.BadRequest("Invalid path", "Say which file or folder: ?path=/folder/name.");
        if (!DfsPath.TryNormalize(raw, out var normalized, out var error))
            throw DfsProblemException.BadRequest("Invalid path", $"'{raw}' is not a valid path: {error}");
        return normalized;
    }

    private static async Task<IResult> BrowseAsync(string? path, string? cursor, HttpContext context, NamespaceService names, AccessControl access,
        CancellationToken ct)
    {
        var target = ParsePath(path, missing: DfsPath.Root);
        var caller = context.GetCaller();
        // As GET /api/list: a folder above what the caller may read shows only the children leading there.
        IReadOnlySet<string>? only = null;
        var canRead = await access.CanAsync(caller, target, Access.Read, ct);
        if (!canRead) only = await access.LeadingChildrenAsync(caller, target, ct) ?? throw AccessControl.Forbidden(target, Access.Read);

        var entry = target == DfsPath.Root ? null : await names.FindAsync(target, ct);
        if (target != DfsPath.Root && entry is null)
        {
            var parent = DfsPath.Parent(target);
            return ConsoleHtml.ErrorPage(context, StatusCodes.Status404NotFound, "Not found", $"There is no file or folder at {target}.",
                ConsoleRoutes.FilesAt(parent), "Up to " + parent);
        }
        if (entry?.Kind == EntryKind.File)
        {
            if (!canRead) throw AccessControl.Forbidden(target, Access.Read);
            return ConsoleHtml.Page(context, entry.Name, "files", Details(await names.StatAsync(target, ct)));
        }

        var page = await names.ListAsync(target, string.IsNullOrEmpty(cursor) ? null : cursor, PageSize, ct, only);
        var canWrite = await access.CanAsync(caller, target, Access.Write, ct);
        string? quota = null;
        if (canWrite && await Quotas.LimitForAsync(names.Db, target, ct) is { } limit)
            quota = $"{limit.User}'s quota: {ConsoleHtml.Bytes(await Quotas.UsedBytesAsync(names.Db, limit.User, ct))} of {ConsoleHtml.Bytes(limit.QuotaBytes)} used";
        return ConsoleHtml.Page(context, target, "files", Listing(context, target, page, cursor, canWrite, quota));
    }

    /// <summary>The file's bytes, whole, as an attachment: streamed chunk by chunk from the nodes, each verified first.</summary>
    private static async Task DownloadAsync(string? path, HttpContext context, NamespaceService names, AccessControl access, DownloadService downloads,
        CancellationToken ct)
    {
        var target = ParsePath(path, missing: null);
        await access.RequireAsync(context.GetCaller(), target, Access.Read, ct);
        var (entry, found) = await names.FindWithVersionAsync(target, ct) ?? throw DfsProblemException.NotFound(target);
        if (entry.Kind == EntryKind.Directory)
            throw DfsProblemException.BadRequest("Not a file", $"'{target}' is a folder: only files can be downloaded.");
        var version = found ?? throw DfsProblemException.NotFound(target);

        var response = context.Response;
        response.ContentType = "application/octet-stream";
        response.ContentLength = version.Size;
        response.Headers.ETag = Digests.ETag(version.Md5);
        response.Headers[Digests.ReprDigestHeader] = Digests.ReprDigest(version.Sha256);
        var disposition = new ContentDispositionHeaderValue("attachment");
        disposition.SetHttpFileName(entry.Name);
        response.Headers.ContentDisposition = disposition.ToString();
        if (version.Size == 0) return;

        var layout = await names.LoadLayoutAsync(version.Id, ct);
        try
        {
            await downloads.CopyRangeAsync(layout, 0, version.Size - 1, response.Body, ct);
        }
        catch (DfsProblemException) when (!response.HasStarted)
        {
            // No copy of the first chunk could be read: an error page instead, without the attachment's headers.
            response.Clear();
            throw;
        }
        catch (DfsProblemException)
        {
            // Bytes already went out: cut the connection so the browser sees a failed download, never a short file.
            context.Abort();
        }
    }

    /// <summary>
    /// The body is the file's bytes (the page's script sends the chosen file as it is, never a form), stored at
    /// <paramref name="path"/> through the API's upload path: same access, conflict and quota checks, same streaming.
    /// </summary>
    private static async Task<IResult> UploadAsync(string? path, string? conflict, HttpContext context, UploadService uploads, NamespaceService names,
        AccessControl access, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        if (context.Request.HasFormContentType)
            throw DfsProblemException.BadRequest("Not a file", "Send the file's bytes as the body (application/octet-stream), not a form.");
        var target = ParsePath(path, missing: null);
        var policy = FileEndpoints.ParseConflict(conflict);
        var committed = await FileEndpoints.StoreBodyAsync(context,
            new UploadRequest(target, policy, options.Value.ReplicationFactor, null, null, context.Request.ContentLength), uploads, names, access, ct);
        return TypedResults.Created(ConsoleRoutes.FilesAt(committed.Result.Path), committed.Result);
    }

    private static async Task<IResult> MkdirAsync(HttpContext context, NamespaceService names, AccessControl access, CancellationToken ct)
    {
        var form = await context.Request.ReadFormAsync(ct);
        var parent = ParsePath(form["path"].ToString(), missing: null);
        var name = form["name"].ToString().Trim();
        if (name.Length == 0) throw DfsProblemException.BadRequest("No folder name", "Type a name for the new folder.");
        if (!DfsPath.TryValidateSegment(name, out var nameError))
            throw DfsProblemException.BadRequest("Invalid folder name", $"'{name}' cannot be a folder name: {nameError}");
        var target = ParsePath(DfsPath.Combine(parent, name), missing: null);
        await access.RequireAsync(context.GetCaller(), target, Access.Write, ct);
        await names.MkdirAsync(target, parents: false, ct);
        return ConsoleHtml.SeeOther(ConsoleRoutes.FilesAt(target));
    }

    private static string Breadcrumb(string path)
    {
        var html = new StringBuilder("<nav class=\"breadcrumb\" id=\"breadcrumb\" aria-label=\"Path\">");
        html.Append("<a href=\"").Append(ConsoleHtml.E(ConsoleRoutes.FilesAt(DfsPath.Root))).Append("\" data-path=\"/\">/</a>");
        var current = DfsPath.Root;
        var first = true;
        foreach (var segment in DfsPath.Segments(path))
        {
            current = DfsPath.Combine(current, segment);
            if (!first) html.Append("<span class=\"sep\">/</span>");
            first = false;
            html.Append("<a href=\"").Append(ConsoleHtml.E(ConsoleRoutes.FilesAt(current))).Append("\" data-path=\"").Append(ConsoleHtml.E(current)).Append("\">")
                .Append(ConsoleHtml.E(segment)).Append("</a>");
        }
        return html.Append("</nav>").ToString();
    }

    private static string Listing(HttpContext context, string folder, ListingPage page, string? cursor, bool canWrite, string? quota)
    {
        var html = new StringBuilder(Breadcrumb(folder));
        html.Append("<div class=\"toolbar\" id=\"folder\" data-path=\"").Append(ConsoleHtml.E(folder)).Append("\" data-writable=\"")
            .Append(canWrite ? "true" : "false").Append("\"><h1>").Append(ConsoleHtml.E(folder == DfsPath.Root ? "/" : DfsPath.Name(folder))).Append("</h1>")
            .Append("<span class=\"spacer\"></span>");
        if (quota is not null) html.Append("<span class=\"muted\" id=\"quota\">").Append(ConsoleHtml.E(quota)).Append("</span>");
        html.Append("</div>");
        if (canWrite)
        {
            html.Append("<div class=\"toolbar\" id=\"file-tools\">");
            html.Append("<form method=\"post\" action=\"").Append(ConsoleRoutes.Mkdir).Append("\" id=\"mkdir-form\" class=\"inline\">")
                .Append(ConsoleHtml.TokenField(context))
                .Append("<input type=\"hidden\" name=\"path\" value=\"").Append(ConsoleHtml.E(folder)).Append("\">")
                .Append("<input type=\"text\" id=\"mkdir-name\" name=\"name\" placeholder=\"New folder name\" aria-label=\"New folder name\" required>")
                .Append("<button type=\"submit\" id=\"mkdir-button\">Create folder</button></form>");
            html.Append("<span class=\"spacer\"></span><div id=\"upload\" class=\"inline\" data-target=\"").Append(ConsoleRoutes.Upload).Append("\">")
                .Append("<input type=\"file\" id=\"upload-file\" multiple aria-label=\"Files to upload\">")
                .Append("<label><input type=\"checkbox\" id=\"upload-overwrite\"> Overwrite</label>")
                .Append("<button type=\"button\" class=\"primary\" id=\"upload-button\">Upload</button>")
                .Append("<span id=\"upload-status\" class=\"muted\"></span></div>")
                .Append("<noscript><span class=\"muted\">Uploading needs JavaScript.</span></noscript>");
            html.Append("</div>");
        }

        html.Append("<table id=\"listing\"><thead><tr><th>Name</th><th class=\"num\">Size</th><th>Modified</th><th></th></tr></thead><tbody>");
        if (page.Entries.Count == 0)
            html.Append("<tr id=\"empty-listing\"><td colspan=\"4\" class=\"muted\">").Append(cursor is null ? "This folder is empty." : "No more entries.").Append("</td></tr>");
        foreach (var entry in page.Entries)
        {
            var isFile = entry.Kind == EntryKind.File;
            html.Append("<tr data-name=\"").Append(ConsoleHtml.E(entry.Name)).Append("\" data-kind=\"").Append(isFile ? "file" : "directory").Append("\">");
            html.Append("<td><a href=\"").Append(ConsoleHtml.E(ConsoleRoutes.FilesAt(entry.Path))).Append("\" data-entry class=\"").Append(isFile ? "file" : "folder").Append("\">")
                .Append(ConsoleHtml.E(entry.Name)).Append(isFile ? "" : "/").Append("</a></td>");
            html.Append("<td class=\"num\" data-field=\"size\"");
            if (isFile) html.Append(" title=\"").Append(ConsoleHtml.E(ConsoleHtml.Count(entry.Size))).Append(" bytes\">").Append(ConsoleHtml.E(ConsoleHtml.Bytes(entry.Size)));
            else html.Append('>');
            html.Append("</td><td data-field=\"modified\">").Append(ConsoleHtml.E(ConsoleHtml.Timestamp(entry.ModifiedAt))).Append("</td><td>");
            if (isFile)
                html.Append("<a href=\"").Append(ConsoleHtml.E(ConsoleRoutes.DownloadOf(entry.Path))).Append("\" data-download=\"").Append(ConsoleHtml.E(entry.Path))
                    .Append("\" download>Download</a>");
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table><p class=\"toolbar\">");
        if (cursor is not null) html.Append("<a id=\"first-page\" href=\"").Append(ConsoleHtml.E(ConsoleRoutes.FilesAt(folder))).Append("\">First page</a>");
        if (page.NextCursor is { } next)
            html.Append("<a id=\"next-page\" href=\"").Append(ConsoleHtml.E(ConsoleRoutes.FilesAt(folder, next))).Append("\">Next page →</a>");
        html.Append("</p>");
        return html.ToString();
    }

    private static string Details(EntryDetails file)
    {
        var html = new StringBuilder(Breadcrumb(file.Path));
        html.Append("<div class=\"toolbar\"><h1>").Append(ConsoleHtml.E(file.Name)).Append("</h1><span class=\"spacer\"></span>");
        html.Append("<a id=\"download\" class=\"button\" href=\"").Append(ConsoleHtml.E(ConsoleRoutes.DownloadOf(file.Path))).Append("\" download>Download</a></div>");
        html.Append("<dl class=\"details\" id=\"file-details\">");
        Detail(html, "path", "Path", file.Path);
        Detail(html, "size", "Size", $"{ConsoleHtml.Bytes(file.Size)} ({ConsoleHtml.Count(file.Size)} bytes)");
        Detail(html, "version", "Version", file.Version?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "");
        Detail(html, "md5", "MD5", file.Md5 ?? "", mono: true);
        Detail(html, "sha256", "SHA-256", file.Sha256 ?? "", mono: true);
        Detail(html, "chunk-size", "Chunk size", file.ChunkSize is { } size ? ConsoleHtml.Bytes(size) : "");
        Detail(html, "created", "Created", ConsoleHtml.Timestamp(file.CreatedAt));
        Detail(html, "modified", "Modified", ConsoleHtml.Timestamp(file.ModifiedAt));
        html.Append("</dl>");

        html.Append("<h2>Chunks</h2><table id=\"chunks\"><thead><tr><th class=\"num\">#</th><th>Chunk (SHA-256)</th><th class=\"num\">Offset</th>");
        html.Append("<th class=\"num\">Size</th><th class=\"num\">Copies</th><th>Nodes</th></tr></thead><tbody>");
        if (file.Chunks.Count == 0) html.Append("<tr id=\"no-chunks\"><td colspan=\"6\" class=\"muted\">An empty file has no chunks.</td></tr>");
        foreach (var chunk in file.Chunks)
        {
            html.Append("<tr data-chunk=\"").Append(ConsoleHtml.E(chunk.Index)).Append("\" data-chunk-id=\"").Append(ConsoleHtml.E(chunk.Id)).Append("\">");
            html.Append("<td class=\"num\">").Append(ConsoleHtml.E(chunk.Index)).Append("</td>");
            html.Append("<td><code title=\"").Append(ConsoleHtml.E(chunk.Id)).Append("\">").Append(ConsoleHtml.E(chunk.Id.Length > 16 ? chunk.Id[..16] + "…" : chunk.Id))
                .Append("</code></td>");
            html.Append("<td class=\"num\">").Append(ConsoleHtml.Count(chunk.Offset)).Append("</td>");
            html.Append("<td class=\"num\">").Append(ConsoleHtml.E(ConsoleHtml.Bytes(chunk.Size))).Append("</td>");
            html.Append("<td class=\"num\" data-field=\"copies\">").Append(ConsoleHtml.E(chunk.Replicas.Count)).Append("</td><td data-field=\"nodes\">");
            if (chunk.Inline) html.Append("<span class=\"badge\" title=\"kept in the metadata store with the file\">inline</span>");
            else if (chunk.Replicas.Count == 0) html.Append("<span class=\"badge node-dead\">no copy</span>");
            foreach (var replica in chunk.Replicas.OrderBy(r => r.NodeName, StringComparer.Ordinal))
                html.Append("<span class=\"replica badge node-").Append(ConsoleHtml.E(replica.NodeState)).Append("\" data-node=\"").Append(ConsoleHtml.E(replica.NodeName))
                    .Append("\" title=\"").Append(ConsoleHtml.E(replica.NodeUrl + " · " + replica.NodeState)).Append("\">").Append(ConsoleHtml.E(replica.NodeName)).Append("</span>");
            html.Append("</td></tr>");
        }
        html.Append("</tbody></table>");
        return html.ToString();
    }

    private static void Detail(StringBuilder html, string field, string label, string value, bool mono = false) =>
        html.Append("<dt>").Append(ConsoleHtml.E(label)).Append("</dt><dd data-field=\"").Append(field).Append('"').Append(mono ? " class=\"mono\"" : "").Append('>')
            .Append(ConsoleHtml.E(value)).Append("</dd>");
}
