using System.Security.Cryptography;
using Dfs.Contracts.Api;
using Dfs.Contracts.Integrity;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dfs.Cli.Tests.Infrastructure;

/// <summary>A fixed namespace served over the gateway's read routes (stat, list, files), for shell and path tests.</summary>
public sealed class FakeNamespace
{
    private static readonly DateTime Time = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);
    private readonly Dictionary<string, byte[]> _files = new(StringComparer.Ordinal);
    private readonly HashSet<string> _folders = new(StringComparer.Ordinal) { "/" };

    public List<string> Requests { get; } = [];

    public FakeNamespace Folder(string path)
    {
        _folders.Add(path);
        return this;
    }

    public FakeNamespace File(string path, byte[] content)
    {
        _files[path] = content;
        return this;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet("/api/stat/{**path}", (string path) => Record("stat", path) is var p && Stat(p) is { } details
            ? Results.Ok(details)
            : NotFound(p));
        app.MapGet("/api/list/{**path}", (string? path) =>
        {
            var folder = Record("list", path);
            if (!_folders.Contains(folder)) return NotFound(folder);
            var entries = _folders.Concat(_files.Keys)
                .Where(p => p != "/" && Parent(p) == folder)
                .Order(StringComparer.Ordinal)
                .Select(p => Stat(p)!)
                .Select(d => new EntryInfo(d.Path, d.Name, d.Kind, d.Size, d.ModifiedAt, d.Version, d.Md5, d.Sha256))
                .ToList();
            return Results.Ok(new ListingPage(folder, entries, null));
        });
        app.MapGet("/api/files/{**path}", (string path, HttpContext context) =>
        {
            var file = Record("get", path);
            if (!_files.TryGetValue(file, out var content)) return NotFound(file);
            context.Response.Headers.ETag = Digests.ETag(Convert.ToHexStringLower(MD5.HashData(content)));
            context.Response.Headers[Digests.ReprDigestHeader] = Digests.ReprDigest(Convert.ToHexStringLower(SHA256.HashData(content)));
            return Results.Bytes(content, "application/octet-stream");
        });
    }

    private string Record(string operation, string? path)
    {
        var full = "/" + (path ?? "");
        lock (Requests) Requests.Add($"{operation} {full}");
        return full;
    }

    private EntryDetails? Stat(string path)
    {
        var name = path[(path.LastIndexOf('/') + 1)..];
        if (_folders.Contains(path))
            return new EntryDetails(path, name, EntryKind.Directory, 0, Time, Time, null, null, null, null, []);
        if (!_files.TryGetValue(path, out var content)) return null;
        return new EntryDetails(path, name, EntryKind.File, content.Length, Time, Time, 1,
            Convert.ToHexStringLower(MD5.HashData(content)), Convert.ToHexStringLower(SHA256.HashData(content)), 8 << 20,
            [new ChunkInfo(0, Convert.ToHexStringLower(SHA256.HashData(content)), 0, content.Length,
                [new ReplicaInfo(Guid.NewGuid(), "node-1", "http://127.0.0.1:1", NodeStates.Live)])]);
    }

    private static string Parent(string path)
    {
        var index = path.LastIndexOf('/');
        return index <= 0 ? "/" : path[..index];
    }

    private static IResult NotFound(string path) =>
        Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"'{path}' does not exist.");
}
