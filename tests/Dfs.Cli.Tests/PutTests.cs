using System.Security.Cryptography;
using System.Text.Json;
using Dfs.Cli.Tests.Infrastructure;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Integrity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Dfs.Cli.Tests;

/// <summary>`dfs put` against a fixture that checks the digests the CLI sends, like the gateway does.</summary>
public sealed class PutTests : IDisposable
{
    private readonly CliHarness _cli = new();
    private readonly byte[] _content = RandomNumberGenerator.GetBytes(2 * 1024 * 1024 + 5);
    private readonly List<string> _log = [];
    private readonly Dictionary<string, EntryDetails> _stored = new(StringComparer.Ordinal);
    private readonly HashSet<string> _folders = new(StringComparer.Ordinal);

    /// <summary>Called before a PUT commits; returning a result short-circuits it.</summary>
    private Func<HttpContext, string, IResult?> _beforeCommit = (_, _) => null;

    /// <summary>Called after a PUT committed; true aborts the connection instead of answering.</summary>
    private Func<int, bool> _abortAfterCommit = _ => false;

    private string Sha256Hex => Convert.ToHexStringLower(SHA256.HashData(_content));
    private string Md5Hex => Convert.ToHexStringLower(MD5.HashData(_content));

    private Task<FixtureGateway> StartAsync() => FixtureGateway.StartAsync(app =>
    {
        var puts = 0;
        app.MapGet("/api/stat/{**path}", (string path) =>
        {
            var full = "/" + path;
            lock (_log) _log.Add($"stat {full}");
            if (_folders.Contains(full))
                return Results.Ok(new EntryDetails(full, path, EntryKind.Directory, 0, DateTime.UtcNow, DateTime.UtcNow, null, null, null, null, []));
            return _stored.TryGetValue(full, out var details)
                ? Results.Ok(details)
                : Results.Problem(statusCode: 404, detail: $"'{full}' does not exist.");
        });
        app.MapPut("/api/files/{**path}", async (HttpContext context, string path) =>
        {
            var full = "/" + path;
            var attempt = Interlocked.Increment(ref puts);
            var request = context.Request;
            lock (_log) _log.Add($"put {full}?{request.QueryString.Value?.TrimStart('?')} length={request.ContentLength}");

            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long size = 0;
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0)
            {
                md5.AppendData(buffer, 0, read);
                sha.AppendData(buffer, 0, read);
                size += read;
            }
            var md5Hex = Convert.ToHexStringLower(md5.GetHashAndReset());
            var shaHex = Convert.ToHexStringLower(sha.GetHashAndReset());

            if (!Digests.TryParseContentMd5(request.Headers[Digests.ContentMd5Header], out var sentMd5, out _) || sentMd5 != md5Hex)
                return Results.Problem(statusCode: 400, detail: "Content-MD5 missing or wrong");
            if (!Digests.TryParseReprDigestSha256(request.Headers[Digests.ReprDigestHeader], out var sentSha, out _) || sentSha != shaHex)
                return Results.Problem(statusCode: 400, detail: "Repr-Digest missing or wrong");
            if (_beforeCommit(context, full) is { } shortCircuit) return shortCircuit;
            if (_stored.ContainsKey(full) && request.Query["conflict"] == "fail")
                return Results.Problem(statusCode: 409, detail: $"'{full}' already exists.");

            var renamed = request.Query["conflict"] == "rename" && _stored.ContainsKey(full);
            var stored = renamed ? full.Replace(".", " (1).") : full;
            _stored[stored] = new EntryDetails(stored, stored[(stored.LastIndexOf('/') + 1)..], EntryKind.File, size, DateTime.UtcNow, DateTime.UtcNow,
                1, md5Hex, shaHex, 8 << 20, []);
            if (_abortAfterCommit(attempt))
            {
                context.Abort();
                return Results.Empty;
            }
            return Results.Json(new PutFileResult(stored, size, md5Hex, shaHex, 1, 1, 8 << 20, renamed, DateTime.UtcNow), DfsJson.Options, statusCode: 201);
        });
    });

    private void WriteLocal(string name) => File.WriteAllBytes(_cli.Local[name], _content);

    [Fact]
    public async Task Sends_both_digests_and_prints_the_result_as_json()
    {
        await using var gateway = await StartAsync();
        WriteLocal("data.bin");

        var result = await _cli.RunAsync("put", "data.bin", "/docs/data.bin", "--conflict", "overwrite", "--replication", "2", "--json", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        var answer = JsonSerializer.Deserialize<PutFileResult>(result.Out, DfsJson.Options)!;
        Assert.Equal("/docs/data.bin", answer.Path);
        Assert.Equal(Sha256Hex, answer.Sha256);
        Assert.Equal(Md5Hex, answer.Md5);
        Assert.Equal(_content.Length, answer.Size);
        Assert.Contains("\n  \"path\": \"/docs/data.bin\"", result.Out.ReplaceLineEndings("\n")); // camelCase, indented
        Assert.Equal(["stat /docs/data.bin", $"put /docs/data.bin?conflict=overwrite&replication=2 length={_content.Length}"], _log);
    }

    [Theory]
    [InlineData(new string[0], "/data.bin")]
    [InlineData(new[] { "/docs/" }, "/docs/data.bin")]
    [InlineData(new[] { "/docs" }, "/docs/data.bin")]
    [InlineData(new[] { "/docs/renamed.bin" }, "/docs/renamed.bin")]
    public async Task Remote_defaults_to_the_file_name_and_folders_keep_it(string[] remote, string expected)
    {
        await using var gateway = await StartAsync();
        _folders.Add("/docs");
        WriteLocal("data.bin");

        var result = await _cli.RunAsync(["put", "data.bin", .. remote, "--gateway", gateway.Url]);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains($"stored {expected} (", result.Out);
        Assert.Contains(expected, _stored.Keys);
    }

    [Fact]
    public async Task Rename_prints_the_name_it_was_stored_under()
    {
        await using var gateway = await StartAsync();
        WriteLocal("a.txt");
        var first = await _cli.RunAsync("put", "a.txt", "--gateway", gateway.Url);

        var second = await _cli.RunAsync("put", "a.txt", "--conflict", "rename", "--gateway", gateway.Url);

        Assert.Equal(ExitCodes.Ok, first.ExitCode);
        Assert.True(second.ExitCode == ExitCodes.Ok, second.ToString());
        Assert.Contains("/a.txt exists; stored as /a (1).txt", second.Out);
    }

    [Fact]
    public async Task Existing_remote_without_overwrite_exits_4_without_retrying()
    {
        await using var gateway = await StartAsync();
        WriteLocal("a.txt");
        await _cli.RunAsync("put", "a.txt", "--gateway", gateway.Url);
        _log.Clear();

        var result = await _cli.RunAsync("put", "a.txt", "--gateway", gateway.Url);

        Assert.Equal(ExitCodes.Conflict, result.ExitCode);
        Assert.Contains("'/a.txt' already exists. (409 Conflict)", result.Error);
        Assert.Single(_log, entry => entry.StartsWith("put ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Retry_after_a_dropped_commit_that_meets_409_succeeds_when_the_stored_bytes_are_ours()
    {
        _abortAfterCommit = attempt => attempt == 1;
        await using var gateway = await StartAsync();
        WriteLocal("a.txt");

        var result = await _cli.RunAsync("put", "a.txt", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Ok, result.ToString());
        Assert.Contains("retrying (attempt 2 of 3)", result.Error);
        Assert.Contains("stored /a.txt (", result.Out);
        Assert.Equal(2, _log.Count(entry => entry.StartsWith("put ", StringComparison.Ordinal)));
        Assert.Equal("stat /a.txt", _log[^1]);
    }

    [Fact]
    public async Task Retry_that_meets_409_with_other_bytes_is_a_conflict()
    {
        _abortAfterCommit = attempt => attempt == 1;
        _beforeCommit = (_, path) =>
        {
            // Someone else's file landed between the dropped attempt and the retry.
            if (_stored.TryGetValue(path, out var ours)) _stored[path] = ours with { Sha256 = new string('0', 64) };
            return null;
        };
        await using var gateway = await StartAsync();
        WriteLocal("a.txt");

        var result = await _cli.RunAsync("put", "a.txt", "--gateway", gateway.Url);

        Assert.True(result.ExitCode == ExitCodes.Conflict, result.ToString());
        Assert.Equal("stat /a.txt", _log[^1]);
    }

    [Fact]
    public async Task A_bad_path_answer_exits_7_with_the_problem_detail()
    {
        _beforeCommit = (_, _) => Results.Problem(statusCode: 400, title: "Invalid path", detail: "The path has a control character.");
        await using var gateway = await StartAsync();
        WriteLocal("a.txt");

        var result = await _cli.RunAsync("put", "a.txt", "/bad", "--gateway", gateway.Url);

        Assert.Equal(ExitCodes.BadRequest, result.ExitCode);
        Assert.Contains("dfs: The path has a control character. (400 BadRequest)", result.Error);
    }

    public void Dispose() => _cli.Dispose();
}
