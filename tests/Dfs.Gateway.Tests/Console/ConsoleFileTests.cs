using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Gateway.Tests.Api;
using Dfs.Gateway.Tests.Auth;
using static Dfs.Gateway.Tests.Console.ConsoleKit;

namespace Dfs.Gateway.Tests.Console;

/// <summary>The file browser: folders, uploads and downloads through the gateway's own paths, and the API's access rules.</summary>
public sealed class ConsoleFileTests
{
    private const int ChunkSize = 65536; // GatewayFactory's

    [Fact]
    public async Task Upload_then_download_returns_identical_bytes_including_a_multi_chunk_file()
    {
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "node-a", "node-b");
        using var browser = await AdminAsync(gateway);

        var (_, root) = await browser.PageAsync(ConsoleClient.FilesUrl("/"), Ct);
        Assert.Contains("id=\"mkdir-form\"", root);
        using (var created = await browser.PostFormAsync("/console/mkdir", [new("path", "/"), new("name", "photos ü")], Ct))
        {
            Assert.Equal(HttpStatusCode.SeeOther, created.StatusCode);
            Assert.Equal(ConsoleClient.FilesUrl("/photos ü"), created.Headers.Location?.OriginalString);
        }
        var (_, folder) = await browser.PageAsync(ConsoleClient.FilesUrl("/photos ü"), Ct);
        Assert.Contains("id=\"empty-listing\"", folder);
        Assert.Contains("id=\"upload-file\"", folder);

        var small = "hello, console"u8.ToArray();
        var big = RandomNumberGenerator.GetBytes(5 * ChunkSize + 123);
        foreach (var (name, bytes) in new[] { ("hello.txt", small), ("big file.bin", big) })
        {
            using var uploaded = await browser.UploadAsync("/photos ü/" + name, new ByteArrayContent(bytes), Ct);
            Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
            var result = (await uploaded.Content.ReadFromJsonAsync<PutFileResult>(DfsJson.Options, Ct))!;
            Assert.Equal(("/photos ü/" + name, (long)bytes.Length, Convert.ToHexStringLower(SHA256.HashData(bytes))), (result.Path, result.Size, result.Sha256));
            Assert.Equal((bytes.Length + ChunkSize - 1) / ChunkSize, result.ChunkCount);
        }

        var (_, listing) = await browser.PageAsync(ConsoleClient.FilesUrl("/photos ü"), Ct);
        Assert.Contains("<tr data-name=\"big file.bin\" data-kind=\"file\">", listing);
        Assert.Contains("title=\"327,803 bytes\">320 KiB</td>", listing);
        Assert.Contains($"href=\"{WebUtility.HtmlEncode(ConsoleClient.DownloadUrl("/photos ü/hello.txt"))}\"", listing);

        foreach (var (name, bytes) in new[] { ("hello.txt", small), ("big file.bin", big) })
        {
            using var download = await browser.GetAsync(ConsoleClient.DownloadUrl("/photos ü/" + name), Ct);
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal(name, download.Content.Headers.ContentDisposition?.FileNameStar);
            Assert.Equal(bytes.Length, download.Content.Headers.ContentLength);
            Assert.Equal(SHA256.HashData(bytes), await SHA256.HashDataAsync(await download.Content.ReadAsStreamAsync(Ct), Ct));
        }

        // The file's page: size, digests, and each chunk with the nodes the gateway says hold it.
        var stat = await AdminApi(gateway).StatAsync("/photos ü/big file.bin", Ct);
        var (_, details) = await browser.PageAsync(ConsoleClient.FilesUrl("/photos ü/big file.bin"), Ct);
        Assert.Contains($"<dd data-field=\"sha256\" class=\"mono\">{Convert.ToHexStringLower(SHA256.HashData(big))}</dd>", details);
        Assert.Contains($"<dd data-field=\"md5\" class=\"mono\">{Convert.ToHexStringLower(MD5.HashData(big))}</dd>", details);
        Assert.Contains("<dd data-field=\"size\">320 KiB (327,803 bytes)</dd>", details);
        Assert.Equal(6, stat.Chunks.Count);
        foreach (var chunk in stat.Chunks)
        {
            var row = Regex.Match(details, $"<tr data-chunk=\"{chunk.Index}\" data-chunk-id=\"{chunk.Id}\">.*?</tr>", RegexOptions.Singleline).Value;
            Assert.NotEmpty(row);
            Assert.NotEmpty(chunk.Replicas);
            foreach (var replica in chunk.Replicas) Assert.Contains($"data-node=\"{replica.NodeName}\"", row);
        }
    }

    [Fact]
    public async Task A_user_sees_and_downloads_another_users_files_only_once_they_are_shared()
    {
        await using var gateway = StartGateway();
        await using var nodes = await NodesAsync(gateway, "node-a");
        var bob = await AuthKit.CreateUserAsync(gateway, "bob");
        var alice = await AuthKit.CreateUserAsync(gateway, "alice");
        var report = RandomNumberGenerator.GetBytes(1000);
        await bob.PutFileAsync("/home/bob/docs/report.bin", new MemoryStream(report), ct: Ct);
        await bob.PutFileAsync("/home/bob/private.txt", new MemoryStream("secret"u8.ToArray()), ct: Ct);
        using var browser = Browser(gateway);
        await browser.SignedInAsync("alice", AuthKit.PasswordOf("alice"), Ct);

        // Refused as on the API, decided on the path alone (so the answer does not say whether it exists).
        foreach (var (url, path) in new[]
                 {
                     (ConsoleClient.FilesUrl("/home/bob"), "/home/bob"), (ConsoleClient.FilesUrl("/home/bob/private.txt"), "/home/bob/private.txt"),
                     (ConsoleClient.DownloadUrl("/home/bob/private.txt"), "/home/bob/private.txt"), (ConsoleClient.FilesUrl("/home/bob/nothing"), "/home/bob/nothing"),
                 })
        {
            using var response = await browser.GetAsync(url, Ct);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal($"You may not read {path}.", ConsoleClient.ErrorOf(await response.Content.ReadAsStringAsync(Ct)));
            await AuthKit.ForbiddenAsync("read", path, () => alice.StatAsync(path, Ct));
        }
        // Above her home she sees only the way to it.
        Assert.Equal(["home"], Names((await browser.PageAsync(ConsoleClient.FilesUrl("/"), Ct)).Html));
        Assert.Equal(["alice"], Names((await browser.PageAsync(ConsoleClient.FilesUrl("/home"), Ct)).Html));
        Assert.DoesNotContain("id=\"upload\"", (await browser.PageAsync(ConsoleClient.FilesUrl("/home"), Ct)).Html);
        // Nor may she write there.
        using (var upload = await browser.UploadAsync("/home/bob/docs/mine.txt", new ByteArrayContent([1, 2, 3]), Ct))
            Assert.Equal("You may not write /home/bob/docs/mine.txt.", (await AuthKit.ProblemAsync(upload, HttpStatusCode.Forbidden)).Detail);
        using (var mkdir = await browser.PostFormAsync("/console/mkdir", [new("path", "/home/bob"), new("name", "x")], Ct))
            Assert.Equal(HttpStatusCode.Forbidden, mkdir.StatusCode);

        await bob.CreateShareAsync("/home/bob/docs", "alice", ShareAccess.Read, Ct);

        Assert.Equal(["alice", "bob"], Names((await browser.PageAsync(ConsoleClient.FilesUrl("/home"), Ct)).Html));
        Assert.Equal(["docs"], Names((await browser.PageAsync(ConsoleClient.FilesUrl("/home/bob"), Ct)).Html));
        var (status, docs) = await browser.PageAsync(ConsoleClient.FilesUrl("/home/bob/docs"), Ct);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["report.bin"], Names(docs));
        Assert.DoesNotContain("id=\"upload\"", docs); // a read share
        using (var download = await browser.GetAsync(ConsoleClient.DownloadUrl("/home/bob/docs/report.bin"), Ct))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(report, await download.Content.ReadAsByteArrayAsync(Ct));
        }
        using (var upload = await browser.UploadAsync("/home/bob/docs/mine.txt", new ByteArrayContent([1, 2, 3]), Ct))
            Assert.Equal(HttpStatusCode.Forbidden, upload.StatusCode);
        using (var still = await browser.GetAsync(ConsoleClient.DownloadUrl("/home/bob/private.txt"), Ct))
            Assert.Equal(HttpStatusCode.Forbidden, still.StatusCode);
        Assert.Equal(["docs", "private.txt"], (await bob.ListAsync("/home/bob", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Equal(["report.bin"], (await bob.ListAsync("/home/bob/docs", ct: Ct)).Entries.Select(e => e.Name));

        // Her own home: the upload form, and her uploads land there.
        Assert.Contains("id=\"upload\"", (await browser.PageAsync(ConsoleClient.FilesUrl("/home/alice"), Ct)).Html);
        using (var own = await browser.UploadAsync("/home/alice/mine.txt", new ByteArrayContent([1, 2, 3]), Ct))
            Assert.Equal(HttpStatusCode.Created, own.StatusCode);
        Assert.Equal(3, (await alice.StatAsync("/home/alice/mine.txt", Ct)).Size);
    }

    [Fact]
    public async Task Bad_input_gets_a_page_or_problem_that_says_what_is_wrong_and_changes_nothing()
    {
        await using var gateway = StartGateway(g => g.With("Dfs:Gateway:Cache:SmallChunkBytes", "0"));
        await using var nodes = await NodesAsync(gateway, "node-a");
        var api = AdminApi(gateway);
        await api.PutFileAsync("/dir/existing.txt", new MemoryStream("v1"u8.ToArray()), ct: Ct);
        await AdminApi(gateway).CreateUserAsync(new CreateUserRequest("carol", AuthKit.PasswordOf("carol"), false, 1000), Ct);
        using var admin = await AdminAsync(gateway);
        using var carol = Browser(gateway);
        await carol.SignedInAsync("carol", AuthKit.PasswordOf("carol"), Ct);

        // Pages: the status of the problem, and a message.
        foreach (var (url, status, message) in new[]
                 {
                     (ConsoleClient.FilesUrl("/a//b"), HttpStatusCode.BadRequest, "'/a//b' is not a valid path: The path has an empty segment ('//')."),
                     (ConsoleClient.FilesUrl("/a/../b"), HttpStatusCode.BadRequest, "'/a/../b' is not a valid path: The path has a '..' segment."),
                     ("/console/files?path=%2Fa%01b", HttpStatusCode.BadRequest, "'/a\u0001b' is not a valid path: The path contains a control character."),
                     (ConsoleClient.FilesUrl("/missing"), HttpStatusCode.NotFound, "There is no file or folder at /missing."),
                     (ConsoleClient.FilesUrl("/dir/existing.txt/below"), HttpStatusCode.NotFound, "There is no file or folder at /dir/existing.txt/below."),
                     ("/console/files?path=%2Fdir&cursor=%25%25", HttpStatusCode.BadRequest, "The cursor is not one this gateway returned."),
                     (ConsoleClient.DownloadUrl("/dir"), HttpStatusCode.BadRequest, "'/dir' is a folder: only files can be downloaded."),
                     (ConsoleClient.DownloadUrl("/dir/missing.txt"), HttpStatusCode.NotFound, "'/dir/missing.txt' does not exist."),
                     ("/console/download", HttpStatusCode.BadRequest, "Say which file or folder: ?path=/folder/name."),
                 })
        {
            using var response = await admin.GetAsync(url, Ct);
            Assert.True(status == response.StatusCode, $"{url}: {(int)response.StatusCode}");
            Assert.Equal("text/html; charset=utf-8", response.Content.Headers.ContentType?.ToString());
            Assert.Equal(message, ConsoleClient.ErrorOf(await response.Content.ReadAsStringAsync(Ct)));
        }

        // Uploads (the page's script reads the problem's detail): refused before anything is stored.
        var uploads = new (ConsoleClient Who, string Path, string Conflict, HttpContent Body, HttpStatusCode Status, string Detail)[]
        {
            (admin, "/dir/existing.txt", "fail", new ByteArrayContent("v2"u8.ToArray()), HttpStatusCode.Conflict,
                "'/dir/existing.txt' already exists (use conflict=overwrite or conflict=rename)."),
            (admin, "/dir", "overwrite", new ByteArrayContent("v2"u8.ToArray()), HttpStatusCode.Conflict, "'/dir' is a directory."),
            (admin, "/dir/x.txt", "sideways", new ByteArrayContent("v2"u8.ToArray()), HttpStatusCode.BadRequest,
                "conflict must be fail, overwrite or rename, not 'sideways'."),
            (admin, "/dir/a\u0001b", "fail", new ByteArrayContent("v2"u8.ToArray()), HttpStatusCode.BadRequest,
                "'/dir/a\u0001b' is not a valid path: The path contains a control character."),
            (admin, "/dir/form.txt", "fail", new FormUrlEncodedContent([new("a", "b")]), HttpStatusCode.BadRequest,
                "Send the file's bytes as the body (application/octet-stream), not a form."),
            (carol, "/home/carol/big.bin", "fail", new ByteArrayContent(new byte[5000]), HttpStatusCode.InsufficientStorage,
                "carol has used 0 of a 1000-byte quota; /home/carol/big.bin needs 5000 bytes. Nothing was committed."),
        };
        foreach (var (who, path, conflict, body, status, detail) in uploads)
        {
            using var response = await who.UploadAsync(path, body, Ct, conflict);
            Assert.Equal(detail, (await AuthKit.ProblemAsync(response, status)).Detail);
        }
        // The same quota refusal as a page, for a client that asks for one.
        using (var page = await carol.UploadAsync("/home/carol/big.bin", new ByteArrayContent(new byte[5000]), Ct, accept: "text/html"))
        {
            Assert.Equal(HttpStatusCode.InsufficientStorage, page.StatusCode);
            Assert.Contains("1000-byte quota", ConsoleClient.ErrorOf(await page.Content.ReadAsStringAsync(Ct)));
        }

        // Folders.
        foreach (var (parent, name, status, message) in new[]
                 {
                     ("/dir", "", HttpStatusCode.BadRequest, "Type a name for the new folder."),
                     ("/dir", "..", HttpStatusCode.BadRequest, "'..' cannot be a folder name: The path has a '..' segment."),
                     ("/dir", "existing.txt", HttpStatusCode.Conflict, "'/dir/existing.txt' already exists."),
                     ("/nowhere", "x", HttpStatusCode.NotFound, "'/nowhere' does not exist."),
                     ("relative//", "x", HttpStatusCode.BadRequest, "'relative//' is not a valid path: The path has an empty segment ('//')."),
                 })
        {
            using var response = await admin.PostFormAsync("/console/mkdir", [new("path", parent), new("name", name)], Ct);
            Assert.True(status == response.StatusCode, $"{parent} + {name}: {(int)response.StatusCode}");
            Assert.Equal(message, ConsoleClient.ErrorOf(await response.Content.ReadAsStringAsync(Ct)));
        }

        // Nothing changed: the file is still version 1, nothing new anywhere, carol still uses nothing.
        var existing = await api.StatAsync("/dir/existing.txt", Ct);
        Assert.Equal((1, 2L), (existing.Version!.Value, existing.Size));
        Assert.Equal(["existing.txt"], (await api.ListAsync("/dir", ct: Ct)).Entries.Select(e => e.Name));
        Assert.Empty((await api.ListAsync("/home/carol", ct: Ct)).Entries);
        Assert.Equal(0, (await AuthKit.As(gateway, "carol").WhoAmIAsync(Ct)).UsedBytes);

        // A file whose only copy is gone from its node: a page saying so (502), not a 500 nor a short download. (This
        // gateway keeps no small chunks: its cache would otherwise still serve the verified bytes.)
        await api.PutFileAsync("/dir/lost.bin", new MemoryStream(RandomNumberGenerator.GetBytes(1000)), ct: Ct);
        nodes[0].Chunks.Clear();
        using (var lost = await admin.GetAsync(ConsoleClient.DownloadUrl("/dir/lost.bin"), Ct))
        {
            Assert.Equal(HttpStatusCode.BadGateway, lost.StatusCode);
            Assert.Null(lost.Content.Headers.ContentDisposition);
            Assert.Matches(@"^Every copy of chunk 0 \([0-9a-f]{64}\) failed: node-a: NotFound\.$", ConsoleClient.ErrorOf(await lost.Content.ReadAsStringAsync(Ct)));
        }
        Assert.DoesNotContain(gateway.Warnings, w => w.Contains("nhandled", StringComparison.Ordinal));
    }

    /// <summary>The names in a listing page, in order.</summary>
    private static List<string> Names(string html) =>
        Regex.Matches(html, "<tr data-name=\"([^\"]*)\"").Select(m => WebUtility.HtmlDecode(m.Groups[1].Value)).ToList();
}
