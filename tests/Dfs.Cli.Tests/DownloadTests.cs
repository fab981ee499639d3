using System.Security.Cryptography;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dfs.Cli.Tests;

/// <summary>`dfs get` against fixture servers that answer correctly, lie about digests, or cut the body short.</summary>
public sealed class DownloadTests : IDisposable
{
    private static readonly byte[] Content = RandomNumberGenerator.GetBytes(3 * 1024 * 1024 + 17);
    private static readonly string Md5Hex = Convert.ToHexStringLower(MD5.HashData(Content));
    private static readonly string Sha256Hex = Convert.ToHexStringLower(SHA256.HashData(Content));

    private readonly CliHarness _cli = new();
    private int _requests;

    private Task<FixtureGateway> ServeAsync(RequestDelegate handler) =>
        FixtureGateway.StartAsync(app => app.MapGet("/api/files/{**path}", async context =>
        {
            Interlocked.Increment(ref _requests);
            await handler(context);
        }));

    private static async Task WriteAsync(HttpContext context, string md5Hex, string sha256Hex, byte[] body)
    {
        context.Response.ContentType = "application/octet-stream";
        context.Response.ContentLength = body.Length;
        context.Response.Headers.ETag = Digests.ETag(md5Hex);
        context.Response.Headers[Digests.ReprDigestHeader] = Digests.ReprDigest(sha256Hex);
        await context.Response.Body.WriteAsync(body);
    }

    [Fact]
    public async Task Verified_download_lands_at_the_destination_and_nothing_else_is_left()
    {
        string? requestedPath = null;
        await using var gateway = await ServeAsync(context =>
        {
            requestedPath = context.Request.Path.Value;
            return WriteAsync(context, Md5Hex, Sha256Hex, Content);
        });

        var result = await _cli.RunAsync("get", "/docs/my file.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Equal("/api/files/docs/my file.bin", requestedPath);
        Assert.Equal(["my file.bin"], _cli.Local.Files());
        Assert.Equal(Content, await File.ReadAllBytesAsync(_cli.Local["my file.bin"], TestContext.Current.CancellationToken));
        Assert.Contains($"sha256 {Sha256Hex}, verified", result.Out);
    }

    [Fact]
    public async Task Wrong_repr_digest_exits_5_and_leaves_no_file()
    {
        var wrongSha = Convert.ToHexStringLower(SHA256.HashData("something else"u8));
        await using var gateway = await ServeAsync(context => WriteAsync(context, Md5Hex, wrongSha, Content));

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Integrity, result.ToString());
        Assert.Contains("integrity check failed for /a.bin: SHA-256", result.Error);
        Assert.Empty(_cli.Local.Files());
        Assert.Equal(1, _requests); // a digest mismatch is not retried
    }

    [Fact]
    public async Task Wrong_etag_exits_5_and_leaves_no_file()
    {
        var wrongMd5 = Convert.ToHexStringLower(MD5.HashData("something else"u8));
        await using var gateway = await ServeAsync(context => WriteAsync(context, wrongMd5, Sha256Hex, Content));

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Integrity, result.ToString());
        Assert.Contains("MD5", result.Error);
        Assert.Empty(_cli.Local.Files());
    }

    [Fact]
    public async Task Truncated_body_exits_5_after_retries_and_leaves_no_partial_file()
    {
        await using var gateway = await ServeAsync(async context =>
        {
            context.Response.ContentLength = Content.Length;
            context.Response.Headers.ETag = Digests.ETag(Md5Hex);
            context.Response.Headers[Digests.ReprDigestHeader] = Digests.ReprDigest(Sha256Hex);
            await context.Response.Body.WriteAsync(Content.AsMemory(0, 1024 * 1024));
            await context.Response.Body.FlushAsync();
            context.Abort();
        });

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Integrity, result.ToString());
        Assert.Contains("download interrupted after", result.Error);
        Assert.Empty(_cli.Local.Files());
        Assert.Equal(3, _requests); // retried as a transient failure, then given up
    }

    [Fact]
    public async Task The_partial_file_is_hidden_next_to_the_destination_and_removed_on_cancel()
    {
        var ct = TestContext.Current.CancellationToken;
        var firstMegabyteSent = new TaskCompletionSource();
        await using var gateway = await ServeAsync(async context =>
        {
            context.Response.ContentLength = Content.Length;
            await context.Response.Body.WriteAsync(Content.AsMemory(0, 1024 * 1024));
            await context.Response.Body.FlushAsync();
            firstMegabyteSent.TrySetResult();
            try { await Task.Delay(Timeout.Infinite, context.RequestAborted); }
            catch (OperationCanceledException) { }
        });
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(ct);

        var run = _cli.RunCancellableAsync("", cancel.Token, "get", "/a.bin", "--gateway", gateway.Url);
        await firstMegabyteSent.Task.WaitAsync(TimeSpan.FromSeconds(30), ct);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (_cli.Local.Files().Length == 0 && DateTime.UtcNow < deadline) await Task.Delay(20, ct);
        var during = _cli.Local.Files();
        await cancel.CancelAsync();
        var result = await run;

        var partial = Assert.Single(during);
        Assert.Matches(@"^\.a\.bin\.dfs-partial-[0-9a-f]{12}$", partial);
        Assert.Equal(ExitCodes.Canceled, result.ExitCode);
        Assert.Empty(_cli.Local.Files());
    }

    [Fact]
    public async Task A_transient_server_error_is_retried()
    {
        await using var gateway = await ServeAsync(context =>
        {
            if (_requests == 1)
            {
                context.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                return Task.CompletedTask;
            }
            return WriteAsync(context, Md5Hex, Sha256Hex, Content);
        });

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Equal(2, _requests);
        Assert.Contains("retrying (attempt 2 of 3)", result.Error);
        Assert.Equal(["a.bin"], _cli.Local.Files());
    }

    [Fact]
    public async Task An_existing_local_file_needs_force()
    {
        await using var gateway = await ServeAsync(context => WriteAsync(context, Md5Hex, Sha256Hex, Content));
        var ct = TestContext.Current.CancellationToken;
        await File.WriteAllTextAsync(_cli.Local["a.bin"], "keep me", ct);

        var refused = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);
        var keptContent = await File.ReadAllTextAsync(_cli.Local["a.bin"], ct);
        var requestsBeforeForce = _requests;
        var forced = await _cli.RunAsync("get", "/a.bin", "--force", "--gateway", gateway.Url);

        Assert.Equal(ExitCodes.Conflict, refused.ExitCode);
        Assert.Contains("already exists (use --force to overwrite)", refused.Error);
        Assert.Equal("keep me", keptContent);
        Assert.Equal(1, requestsBeforeForce); // the remote was looked up first, and nothing was retried
        Assert.True(forced.ExitCode == ExitCodes.Ok, forced.ToString());
        Assert.Equal(Content, await File.ReadAllBytesAsync(_cli.Local["a.bin"], ct));
        Assert.Equal(["a.bin"], _cli.Local.Files());
    }

    [Fact]
    public async Task A_missing_remote_is_not_found_even_when_the_local_file_exists()
    {
        await using var gateway = await ServeAsync(context =>
            Results.Problem(statusCode: 404, title: "Not found", detail: "'/a.bin' does not exist.").ExecuteAsync(context));
        var ct = TestContext.Current.CancellationToken;
        await File.WriteAllTextAsync(_cli.Local["a.bin"], "keep me", ct);

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.NotFound, result.ToString());
        Assert.Equal("dfs: '/a.bin' does not exist. (404 NotFound)\n", result.Error.ReplaceLineEndings("\n"));
        Assert.Equal("keep me", await File.ReadAllTextAsync(_cli.Local["a.bin"], ct));
        Assert.Equal(["a.bin"], _cli.Local.Files());
    }

    [Fact]
    public async Task A_missing_remote_is_not_found_even_when_the_local_folder_is_missing()
    {
        await using var gateway = await ServeAsync(context =>
            Results.Problem(statusCode: 404, title: "Not found", detail: "'/a.bin' does not exist.").ExecuteAsync(context));

        var missing = await _cli.RunAsync("get", "/a.bin", "no-such-folder/", "--gateway", gateway.Url);
        Assert.True(missing.ExitCode == ExitCodes.NotFound, missing.ToString());
        Assert.Contains("'/a.bin' does not exist. (404 NotFound)", missing.Error);
    }

    [Fact]
    public async Task Local_folder_destination_keeps_the_remote_name()
    {
        await using var gateway = await ServeAsync(context => WriteAsync(context, Md5Hex, Sha256Hex, Content));
        Directory.CreateDirectory(_cli.Local["into"]);

        var result = await _cli.RunAsync("get", "/x/b.bin", "into", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Equal(["b.bin"], Directory.GetFiles(_cli.Local["into"]).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData(404, ExitCodes.NotFound)]
    [InlineData(400, ExitCodes.BadRequest)]
    [InlineData(409, ExitCodes.Conflict)]
    [InlineData(500, ExitCodes.Error)]
    public async Task Problem_answers_map_to_exit_codes_and_print_the_detail(int status, int expectedExit)
    {
        await using var gateway = await ServeAsync(context =>
            Results.Problem(statusCode: status, title: "Nope", detail: $"detail for status {status}").ExecuteAsync(context));

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == expectedExit, result.ToString());
        Assert.Contains($"detail for status {status} ({status} ", result.Error);
        Assert.Empty(_cli.Local.Files());
    }

    [Fact]
    public async Task A_closed_gateway_port_exits_6()
    {
        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", $"http://127.0.0.1:{ClosedPort.Get()}");

        Assert.True(result.ExitCode == ExitCodes.Unreachable, result.ToString());
        Assert.Contains("cannot reach the gateway at http://127.0.0.1:", result.Error);
        Assert.Empty(_cli.Local.Files());
    }

    [Fact]
    public async Task A_node_that_stalls_on_reads_is_hedged_on_the_next_copy_and_its_reads_dropped()
    {
        // Each chunk's first URL is a node that holds the read without answering (a paused process, a congested link); the
        // second serves it. Without hedging every chunk would wait out the CLI's five-minute node time limit.
        var ct = TestContext.Current.CancellationToken;
        const int chunkSize = 1024 * 1024;
        var chunks = Enumerable.Range(0, (Content.Length + chunkSize - 1) / chunkSize)
            .Select(i => (Index: i, Offset: (long)i * chunkSize, Bytes: Content.AsMemory(i * chunkSize, Math.Min(chunkSize, Content.Length - i * chunkSize)).ToArray()))
            .ToList();
        int stalledReads = 0, hanging = 0;
        await using var gateway = await FixtureGateway.StartAsync(app =>
        {
            app.MapGet("/api/layout/{**path}", (string path, HttpContext context) =>
            {
                var node = $"{context.Request.Scheme}://{context.Request.Host}";
                return Results.Json(new FileLayout("/" + path, 1, Content.Length, Md5Hex, Sha256Hex, DateTime.UtcNow.AddMinutes(5),
                    chunks.Select(c => new ChunkSource(c.Index, ChunkIds.Compute(c.Bytes), c.Offset, c.Bytes.Length,
                        [$"{node}/stalled/{c.Index}", $"{node}/good/{c.Index}"])).ToList()), DfsJson.Options);
            });
            app.MapGet("/stalled/{index:int}", async (int index, HttpContext context) =>
            {
                Interlocked.Increment(ref stalledReads);
                Interlocked.Increment(ref hanging);
                try { await Task.Delay(Timeout.Infinite, context.RequestAborted); }
                catch (OperationCanceledException) { }
                Interlocked.Decrement(ref hanging);
            });
            app.MapGet("/good/{index:int}", (int index) => Results.Bytes(chunks[index].Bytes, "application/octet-stream"));
        });

        var result = await _cli.RunAsync("get", "/a.bin", "--gateway", gateway.Url).WaitAsync(TimeSpan.FromMinutes(1), ct);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains($"sha256 {Sha256Hex}, verified; {chunks.Count} of {chunks.Count} chunks straight from the nodes", result.Out);
        Assert.Equal(Content, await File.ReadAllBytesAsync(_cli.Local["a.bin"], ct));
        Assert.Equal(chunks.Count, stalledReads);
        // The stalled reads were dropped once the other copy answered, not left to their time limit.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref hanging) > 0 && DateTime.UtcNow < deadline) await Task.Delay(20, ct);
        Assert.Equal(0, Volatile.Read(ref hanging));
    }

    public void Dispose() => _cli.Dispose();
}
