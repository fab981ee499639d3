using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Dfs.Contracts.Api;

namespace Dfs.Chaos.Workload;

/// <summary>
/// One of the run's concurrent clients: a seeded mix of operations on names every client shares (PUT overwrite,
/// conflict=fail races, GET, Range GET, HEAD, rm, ls) and on its own names (mv), each recorded with its start, end and
/// result. Every request has a deadline: a hung server is an operation with an unknown outcome, never a stuck client.
/// </summary>
public sealed class ChaosClient(int id, int seed, HttpClient http, History history, WorkloadShape shape)
{
    private static readonly int[] Sizes = [64, 2_000, 30_000, 200_000, 600_000, 1_100_000];
    private static readonly int[] SizeWeights = [20, 20, 20, 20, 12, 8];

    private readonly Random _random = new(HashCode.Combine(seed, id));
    private readonly List<(string Path, long WriteId)> _own = [];
    private long _writes;
    private int _ownNames;

    public int Id => id;

    public static string SharedDirectory => "/chaos/shared";

    public string OwnDirectory => $"/chaos/client-{id.ToString(CultureInfo.InvariantCulture)}";

    public async Task RunAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var roll = _random.Next(100);
            var shared = $"{SharedDirectory}/f{_random.Next(shape.SharedNames).ToString(CultureInfo.InvariantCulture)}";
            var op = roll switch
            {
                < 22 => PutAsync(shared, ifAbsent: false),
                < 32 => PutAsync(shared, ifAbsent: true),
                < 54 => GetAsync(shared),
                < 62 => RangeGetAsync(shared),
                < 68 => HeadAsync(shared),
                < 76 => DeleteAsync(shared),
                < 90 => MoveOwnAsync(),
                _ => ListAsync(_random.Next(4) == 0 ? OwnDirectory : SharedDirectory),
            };
            var done = await op;
            // A client that cannot reach the gateway waits a moment, as any real client would, before trying again.
            if (done.Outcome == OpOutcome.Unknown && done.Status == 0) await Task.Delay(TimeSpan.FromMilliseconds(250), CancellationToken.None);
        }
    }

    private long NextWriteId() => (long)(id + 1) * 1_000_000_000L + ++_writes;

    private int NextSize()
    {
        var roll = _random.Next(SizeWeights.Sum());
        for (var i = 0; i < Sizes.Length; i++)
        {
            if (roll < SizeWeights[i]) return Sizes[i] + _random.Next(Sizes[i] / 4 + 1);
            roll -= SizeWeights[i];
        }
        return Sizes[0];
    }

    public async Task<Op> PutAsync(string path, bool ifAbsent)
    {
        var content = history.NewWrite(NextWriteId(), NextSize());
        var kind = ifAbsent ? OpKind.PutIfAbsent : OpKind.Put;
        var conflict = ifAbsent ? "fail" : "overwrite";
        return await SendAsync(kind, path, content.WriteId, null, async ct =>
        {
            using var body = new ByteArrayContent(content.Bytes());
            using var response = await http.PutAsync($"{ApiRoutes.Files}{path}?{ApiRoutes.ConflictQuery}={conflict}", body, ct);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (OpOutcome.Ok, status, -1, false, null)
                : status is 409 or 400 or 404 ? (OpOutcome.Failed, status, -1, false, null)
                : (OpOutcome.Unknown, status, -1, false, null);
        });
    }

    private Task<Op> GetAsync(string path) => ReadAsync(path);

    /// <summary>A whole-file GET: which write came back, and whether the bytes are exactly that write's.</summary>
    public async Task<Op> ReadAsync(string path) =>
        await SendAsync(OpKind.Get, path, 0, null, async ct =>
        {
            using var response = await http.GetAsync($"{ApiRoutes.Files}{path}", HttpCompletionOption.ResponseHeadersRead, ct);
            if (response.StatusCode == HttpStatusCode.NotFound) return (OpOutcome.Ok, 404, 0L, false, null);
            if (!response.IsSuccessStatusCode) return (OpOutcome.Unknown, (int)response.StatusCode, -1L, false, null);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            var claimed = WriteContent.Claimed(body);
            var write = claimed == 0 ? null : history.Write(claimed);
            var good = write is not null && write.Size == body.Length && SHA256.HashData(body).AsSpan().SequenceEqual(write.Sha256);
            return (OpOutcome.Ok, 200, claimed, !good, good ? null : $"{body.Length} bytes that are not write {claimed}'s");
        });

    private async Task<Op> RangeGetAsync(string path)
    {
        var from = _random.Next(2) == 0 ? 0 : _random.Next(400_000);
        var to = from + _random.Next(1, 400_000);
        return await SendAsync(OpKind.RangeGet, path, 0, null, async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{ApiRoutes.Files}{path}");
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(from, to);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            var status = (int)response.StatusCode;
            if (status is 404 or 416) return (OpOutcome.Ok, status, status == 404 ? 0L : -1L, false, null);
            if (status != 206 && status != 200) return (OpOutcome.Unknown, status, -1L, false, null);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            // The ETag is the whole file's MD5: it names the version the slice must come from.
            var etag = response.Headers.ETag?.Tag.Trim('"');
            var write = etag is null ? null : history.WriteByMd5(etag);
            if (write is null) return (OpOutcome.Ok, status, 0L, true, $"ETag {etag} is no write's");
            var start = status == 206 ? response.Content.Headers.ContentRange?.From ?? -1 : 0;
            var whole = write.Bytes();
            var good = start >= 0 && start + body.Length <= whole.Length && whole.AsSpan((int)start, body.Length).SequenceEqual(body)
                       && (status == 206 || body.Length == whole.Length);
            return (OpOutcome.Ok, status, write.WriteId, !good, good ? null : $"bytes {start}+{body.Length} differ from write {write.WriteId}'s");
        });
    }

    private async Task<Op> HeadAsync(string path) =>
        await SendAsync(OpKind.Head, path, 0, null, async ct =>
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"{ApiRoutes.Files}{path}");
            using var response = await http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            if (status == 404) return (OpOutcome.Ok, 404, 0L, false, null);
            if (status != 200) return (OpOutcome.Unknown, status, -1L, false, null);
            var etag = response.Headers.ETag?.Tag.Trim('"');
            var write = etag is null ? null : history.WriteByMd5(etag);
            var good = write is not null && response.Content.Headers.ContentLength == write.Size;
            return (OpOutcome.Ok, 200, write?.WriteId ?? 0, !good, good ? null : $"HEAD {etag} names no write of that size");
        });

    private async Task<Op> DeleteAsync(string path) =>
        await SendAsync(OpKind.Delete, path, 0, null, async ct =>
        {
            using var response = await http.DeleteAsync($"{ApiRoutes.Entries}{path}", ct);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (OpOutcome.Ok, status, -1L, false, null)
                : status == 404 ? (OpOutcome.Failed, status, -1L, false, null)
                : (OpOutcome.Unknown, status, -1L, false, null);
        });

    /// <summary>
    /// Renames one of this client's own files (which no other client touches, so its content is known) to a new name;
    /// makes one first when it has none. A file whose last operation had an unknown outcome is dropped from the list.
    /// </summary>
    private async Task<Op> MoveOwnAsync()
    {
        if (_own.Count == 0 || _random.Next(3) == 0)
        {
            var path = $"{OwnDirectory}/n{(++_ownNames).ToString(CultureInfo.InvariantCulture)}";
            var put = await PutAsync(path, ifAbsent: false);
            if (put.Outcome == OpOutcome.Ok) _own.Add((path, put.WriteId));
            return put;
        }
        var index = _random.Next(_own.Count);
        var (from, writeId) = _own[index];
        var to = $"{OwnDirectory}/n{(++_ownNames).ToString(CultureInfo.InvariantCulture)}";
        var move = await SendAsync(OpKind.Move, from, writeId, to, async ct =>
        {
            using var response = await http.PostAsJsonAsync(ApiRoutes.Move, new MoveRequest(from, to), ct);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (OpOutcome.Ok, status, -1L, false, null)
                : status is 404 or 409 ? (OpOutcome.Failed, status, -1L, false, null)
                : (OpOutcome.Unknown, status, -1L, false, null);
        });
        _own.RemoveAt(index);
        if (move.Outcome == OpOutcome.Ok) _own.Add((to, writeId));
        else if (move.Outcome == OpOutcome.Failed) _own.Add((from, writeId));
        return move;
    }

    private async Task<Op> ListAsync(string directory) =>
        await SendAsync(OpKind.List, directory, 0, null, async ct =>
        {
            using var response = await http.GetAsync($"{ApiRoutes.List}{directory}?limit=1000", ct);
            var status = (int)response.StatusCode;
            if (status == 404) return (OpOutcome.Ok, 404, -1L, false, null);
            if (!response.IsSuccessStatusCode) return (OpOutcome.Unknown, status, -1L, false, null);
            var page = await response.Content.ReadFromJsonAsync<ListingPage>(ct);
            return (OpOutcome.Ok, status, -1L, page is null, page is null ? "no listing" : null);
        });

    private async Task<Op> SendAsync(OpKind kind, string path, long writeId, string? to,
        Func<CancellationToken, Task<(OpOutcome Outcome, int Status, long ReadWrite, bool BadBytes, string? Error)>> send)
    {
        var opId = history.NextOpId();
        var start = history.Now;
        (OpOutcome Outcome, int Status, long ReadWrite, bool BadBytes, string? Error) result;
        using (var deadline = new CancellationTokenSource(shape.RequestTimeout))
        {
            try
            {
                result = await send(deadline.Token);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
            {
                result = (OpOutcome.Unknown, 0, -1, false, e.GetType().Name + ": " + e.Message);
            }
        }
        var op = new Op(opId, id, kind, path, start, history.Now, result.Outcome, result.Status, writeId, to, result.ReadWrite, result.BadBytes, result.Error);
        history.Add(op);
        return op;
    }
}

/// <summary>The workload's knobs.</summary>
public sealed record WorkloadShape(int SharedNames, TimeSpan RequestTimeout);
