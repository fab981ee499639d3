using Dfs.Contracts.Api;

namespace Dfs.Contracts.Clients;

/// <summary>How a PUT treats an existing name, the client's digests for the gateway to check, and a per-file replication factor.</summary>
public sealed record PutFileOptions(
    ConflictPolicy Conflict = ConflictPolicy.Fail,
    string? Md5Hex = null,
    string? Sha256Hex = null,
    int? ReplicationFactor = null,
    Durability Durability = Durability.One);

/// <summary>An inclusive byte range; To null means to the end.</summary>
public readonly record struct ByteRange(long From, long? To)
{
    public override string ToString() => $"bytes={From}-{To}";
}

/// <summary>An open download: the body stream plus the integrity headers the gateway sent.</summary>
public sealed class DfsDownload(HttpResponseMessage response, Stream content) : IAsyncDisposable, IDisposable
{
    public Stream Content { get; } = content;
    public long? Length => response.Content.Headers.ContentLength;
    public string? ETag => response.Headers.ETag?.Tag;
    public string? Md5Hex => ETag?.Trim('"');
    public string? Sha256Hex =>
        response.Headers.TryGetValues(Integrity.Digests.ReprDigestHeader, out var values)
        && Integrity.Digests.TryParseReprDigestSha256(string.Join(',', values), out var hex, out _) ? hex : null;
    public int? Version =>
        response.Headers.TryGetValues(ApiRoutes.VersionHeader, out var values) && int.TryParse(values.FirstOrDefault(), out var v) ? v : null;
    public bool IsPartial => response.StatusCode == System.Net.HttpStatusCode.PartialContent;

    public async ValueTask DisposeAsync()
    {
        await Content.DisposeAsync();
        response.Dispose();
    }

    public void Dispose()
    {
        Content.Dispose();
        response.Dispose();
    }
}
