using Dfs.Contracts.Clients;
using System.Diagnostics;
using System.Text.Json;
using Dfs.Bench.Measuring;
using Dfs.Bench.Results;

namespace Dfs.Bench.Workloads;

/// <summary>
/// A directory of many entries: created with concurrent PUTs of empty files (the creation rate is a figure too),
/// then listed through the paged API: the time to the first page and to the whole listing. nginx's baseline is
/// the same number of empty files PUT through WebDAV and its JSON autoindex of the folder (one unpaged answer).
/// </summary>
public sealed class ListingWorkload(BenchContext context)
{
    private const string DfsFolder = "/bench/list";
    private const string NginxFolder = "list/";

    private int Writers => context.Options.ListWriters;

    /// <summary>Entries that exist in both folders: all that were asked for, or what Dfs created within the time budget.</summary>
    private int Entries { get; set; }

    public async Task CreateAsync(CancellationToken ct)
    {
        var wanted = context.Options.ListEntries;
        var budget = context.Options.ListCreateBudget;
        BenchContext.Log($"creating {wanted:N0} entries in {DfsFolder} with {Writers} clients (at most {budget.TotalMinutes:0.#} min)");
        double dfsRate;
        using (context.Cpu.Start("Dfs create entries", 1))
            (Entries, dfsRate) = await CreateAllAsync(wanted, budget, i => context.Dfs.Client.PutFileAsync($"{DfsFolder}/{Name(i)}", Stream.Null, null, ct), ct);
        var figure = context.Report.Add("list.create", $"Create {Entries:N0} empty files in one folder ({Writers} clients)", "files/s", Better.Higher, "nginx WebDAV PUT of empty files",
            new Target(TargetKind.AtLeast, 3000, "files/s"));
        figure.Dfs[1] = dfsRate;
        BenchContext.Log($"Dfs: {Entries:N0} entries, {dfsRate:F0} files/s");
        if (Entries < wanted)
        {
            var note = $"Dfs created {Entries:N0} of {wanted:N0} entries in the {budget.TotalMinutes:0.#} min budget ({dfsRate:F0} files/s; all of them would take about {wanted / dfsRate / 60:F0} min): the listing figures are for {Entries:N0} entries.";
            context.Report.Note(note);
            BenchContext.Log(note);
        }
        if (context.NginxHttp is { } nginx)
        {
            using (context.Cpu.Start("nginx create entries", 1))
                (_, figure.Baseline[1]) = await CreateAllAsync(Entries, TimeSpan.MaxValue, i => Measuring.Http.PutAsync(nginx, NginxFolder + Name(i), new ByteArrayContent([]), ct), ct);
            BenchContext.Log($"nginx: {figure.Baseline[1]:F0} files/s");
        }
    }

    public async Task ListAsync(int run, CancellationToken ct)
    {
        var first = context.Report.Add("list.first", $"List {Entries:N0} entries: first page", "ms", Better.Lower, "nginx JSON autoindex: first byte");
        var whole = context.Report.Add("list.all", $"List {Entries:N0} entries: whole listing", "s", Better.Lower, "nginx JSON autoindex: whole answer",
            new Target(TargetKind.Below, 1, "s"));

        using (context.Cpu.Start("Dfs list", run))
        {
            var started = Stopwatch.GetTimestamp();
            var page = await context.Dfs.Client.ListAsync(DfsFolder, ct: ct);
            first.Dfs[run] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var count = page.Entries.Count;
            var pages = 1;
            while (page.NextCursor is { } cursor)
            {
                page = await context.Dfs.Client.ListAsync(DfsFolder, cursor, ct: ct);
                count += page.Entries.Count;
                pages++;
            }
            whole.Dfs[run] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (count != Entries) throw new InvalidOperationException($"Listing {DfsFolder} gave {count} entries, expected {Entries}.");
            BenchContext.Log($"run {run}: Dfs listing: first page {first.Dfs[run]:F1} ms, {count:N0} entries in {pages} pages {whole.Dfs[run]:F2} s");
        }

        if (context.NginxHttp is not { } nginx) return;
        using (context.Cpu.Start("nginx list", run))
        {
            var started = Stopwatch.GetTimestamp();
            using var response = await nginx.GetAsync(NginxFolder, HttpCompletionOption.ResponseHeadersRead, ct);
            response.EnsureSuccessStatusCode();
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            var buffer = new MemoryStream();
            var chunk = new byte[64 * 1024];
            var read = await body.ReadAsync(chunk, ct);
            first.Baseline[run] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            do buffer.Write(chunk, 0, read);
            while ((read = await body.ReadAsync(chunk, ct)) > 0);
            buffer.Position = 0;
            using var json = await JsonDocument.ParseAsync(buffer, cancellationToken: ct);
            var count = json.RootElement.GetArrayLength();
            whole.Baseline[run] = Stopwatch.GetElapsedTime(started).TotalSeconds;
            if (count != Entries) throw new InvalidOperationException($"nginx listed {count} entries, expected {Entries}.");
            BenchContext.Log($"run {run}: nginx listing: first byte {first.Baseline[run]:F1} ms, whole {whole.Baseline[run]:F2} s");
        }
    }

    public async Task CleanUpAsync()
    {
        await LargeFileWorkload.DeleteQuietlyAsync(context.Dfs.Client, DfsFolder, CancellationToken.None);
        if (context.Nginx is not null)
        {
            var folder = Path.Combine(context.Nginx.Root, "list");
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
    }

    private static string Name(int i) => $"f{i:D7}";

    /// <summary>Creates entries 0..count-1 with <see cref="Writers"/> concurrent clients until done or out of time; returns how many and the rate.</summary>
    private async Task<(int Created, double PerSecond)> CreateAllAsync(int count, TimeSpan budget, Func<int, Task> create, CancellationToken ct)
    {
        var next = -1;
        var started = Stopwatch.GetTimestamp();
        var lastLog = started;
        var workers = Enumerable.Range(0, Writers).Select(_ => Task.Run(async () =>
        {
            int i;
            // A worker stops taking names once the budget is spent; every name taken is created, so 0..created-1 exist.
            while (Stopwatch.GetElapsedTime(started) < budget && (i = Interlocked.Increment(ref next)) < count)
            {
                await create(i);
                if (i % 1_000 == 0 && i > 0 && Stopwatch.GetElapsedTime(Interlocked.Read(ref lastLog)) > TimeSpan.FromSeconds(10))
                {
                    Interlocked.Exchange(ref lastLog, Stopwatch.GetTimestamp());
                    BenchContext.Log($"  {i:N0} of {count:N0} after {Stopwatch.GetElapsedTime(started).TotalSeconds:F0} s");
                }
            }
        }, ct)).ToArray();
        await Task.WhenAll(workers);
        var created = Math.Min(count, next + 1);
        return (created, created / Stopwatch.GetElapsedTime(started).TotalSeconds);
    }
}
