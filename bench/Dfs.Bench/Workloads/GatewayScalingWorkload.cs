using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using Dfs.Bench.Measuring;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Testing;

namespace Dfs.Bench.Workloads;

/// <summary>
/// 4 KiB GETs at 16 clients against clusters of 1, 2 and 3 gateways sharing Redis, and against one gateway with the
/// small-chunk cache off: what the cache and more gateways give on this machine. Each configuration is a cluster of its
/// own (local profile, 3 nodes, the objects at replication 3); the clients go round the gateways. The hit ratio is the
/// gateways' own count (GET /api/gateway) over the measured time.
/// </summary>
public static class GatewayScalingWorkload
{
    public const string StartMarker = "<!-- gateway-scaling:start -->";
    public const string EndMarker = "<!-- gateway-scaling:end -->";
    private const int Objects = 1000;
    private const int Clients = 16;

    private sealed record Row(int Gateways, bool Cache, Latencies Result, double? HitRatio, double GatewayCpuSeconds);

    public static async Task<int> RunAsync(BenchOptions options, CancellationToken ct)
    {
        var duration = options.Short ? TimeSpan.FromSeconds(1) : options.SmallObjectDuration * 2;
        var warmUp = options.Short ? TimeSpan.FromSeconds(1) : options.SmallObjectWarmUp;
        (int Gateways, bool Cache)[] configurations = [(1, false), (1, true), (2, true), (3, true)];
        var rows = new List<Row>();
        foreach (var (gateways, cache) in configurations)
        {
            BenchContext.Log($"gateway scaling: {gateways} gateway(s), small-chunk cache {(cache ? "on" : "off")}");
            rows.Add(await MeasureAsync(gateways, cache, duration, warmUp, options.Short ? 50 : Objects, ct));
            var last = rows[^1];
            BenchContext.Log($"  {last.Result.OpsPerSecond:F0} GET/s, p50 {last.Result.P50:F2} ms, p99 {last.Result.P99:F2} ms" +
                             (last.HitRatio is { } h ? $", hit ratio {h:P0}" : "") + (last.Result.Errors > 0 ? $", {last.Result.Errors} errors" : ""));
        }

        var table = Table(rows, duration);
        Console.WriteLine(table);
        var markdown = options.MarkdownPath ?? (!options.Short && File.Exists(BenchRunner.DocsPath) ? BenchRunner.DocsPath : null);
        if (markdown is not null) await ReplaceSectionAsync(markdown, table, ct);
        return rows.Any(r => r.Result.Errors > 0) ? 1 : 0;
    }

    private static async Task<Row> MeasureAsync(int gateways, bool cache, TimeSpan duration, TimeSpan warmUp, int objects, CancellationToken ct)
    {
        await using var cluster = await DfsTestCluster.StartAsync(o =>
        {
            o.Profile = "local";
            o.Nodes = 3;
            o.ReplicationFactor = 3;
            o.Gateways = gateways;
            o.ResourceLogs = false;
            o.ExtraArguments.AddRange(["--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None"]);
            foreach (var name in Enumerable.Range(1, gateways).Select(i => i == 1 ? "gateway" : $"gateway-{i}"))
            {
                // One user at 16 clients: the per-user limit would measure the limiter.
                var environment = new Dictionary<string, string>
                {
                    ["Dfs__Gateway__RateLimit__PermitsPerSecond"] = "1000000",
                    ["Dfs__Gateway__RateLimit__Burst"] = "1000000",
                };
                if (!cache) environment["Dfs__Gateway__Cache__SmallChunkBytes"] = "0";
                o.ResourceEnvironment[name] = environment;
            }
        }, ct);

        var token = (await cluster.CreateGateway().CreateTokenAsync("bench-scaling", ct: ct)).Token;
        var handlers = new List<SocketsHttpHandler>();
        var clients = cluster.Gateways.Select(g =>
        {
            var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionLifetime = Timeout.InfiniteTimeSpan, UseProxy = false };
            handlers.Add(handler);
            var http = new HttpClient(handler) { BaseAddress = cluster.GatewayUrlOf(g), Timeout = TimeSpan.FromMinutes(1) };
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            return http;
        }).ToList();
        try
        {
            var api = DfsRefit.Gateway(clients[0]);
            var paths = new string[objects];
            var bytes = new byte[SmallObjectWorkload.ObjectSize];
            for (var i = 0; i < objects; i++)
            {
                Random.Shared.NextBytes(bytes);
                paths[i] = $"/bench/scaling/{i}";
                await api.PutFileAsync(paths[i], new MemoryStream(bytes, writable: false), new PutFileOptions(ConflictPolicy.Overwrite, ReplicationFactor: 3), ct);
            }
            var get = SmallObjectWorkload.Get(worker => clients[worker % clients.Count], paths, p => ApiRoutes.Files + p);
            await OperationLoop.RunAsync(Clients, warmUp, get, ct);

            var before = await CountsAsync(clients, ct);
            var cpuBefore = GatewayCpuSeconds(cluster);
            var result = await OperationLoop.RunAsync(Clients, duration, get, ct);
            var cpu = GatewayCpuSeconds(cluster) - cpuBefore;
            var after = await CountsAsync(clients, ct);
            var hits = after.Hits - before.Hits;
            var lookups = hits + after.Misses - before.Misses;
            return new Row(gateways, cache, result, cache && lookups > 0 ? (double)hits / lookups : null, cpu);
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
            foreach (var handler in handlers) handler.Dispose();
        }
    }

    private static async Task<(long Hits, long Misses)> CountsAsync(IEnumerable<HttpClient> clients, CancellationToken ct)
    {
        long hits = 0, misses = 0;
        foreach (var client in clients)
        {
            var info = await client.GetFromJsonAsync<GatewayInstanceInfo>(ApiRoutes.Gateway, DfsJsonContext.Default.GatewayInstanceInfo, ct)
                ?? throw new InvalidOperationException("GET /api/gateway answered nothing.");
            hits += info.ChunkCacheHits;
            misses += info.ChunkCacheMisses;
        }
        return (hits, misses);
    }

    private static double GatewayCpuSeconds(DfsTestCluster cluster)
    {
        var processes = ProcFs.Processes();
        return cluster.Gateways.Select(cluster.ProcessId).OfType<int>().Sum(pid => ProcFs.TreeCpuSeconds(processes, pid));
    }

    private static string Table(IReadOnlyList<Row> rows, TimeSpan duration)
    {
        var text = new StringBuilder();
        text.AppendLine(StartMarker);
        text.AppendLine(CultureInfo.InvariantCulture, $"4 KiB GET, {Clients} clients going round the gateways, {duration.TotalSeconds:F0} s each, objects at replication 3, one bearer token; " +
                        $"measured {DateTime.UtcNow:yyyy-MM-dd} on this machine ({Environment.ProcessorCount} cores) with `dotnet run -c Release --project bench/Dfs.Bench -- --gateway-scaling`.");
        text.AppendLine();
        text.AppendLine("| gateways | small-chunk cache | GET/s | p50 ms | p99 ms | hit ratio | gateways' CPU per GET |");
        text.AppendLine("| ---: | --- | ---: | ---: | ---: | ---: | ---: |");
        foreach (var row in rows)
        {
            var perGet = row.Result.Count > 0 ? row.GatewayCpuSeconds * 1000 / row.Result.Count : 0;
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Gateways} | {(row.Cache ? "on" : "off")} | {row.Result.OpsPerSecond:N0} | {row.Result.P50:F2} | {row.Result.P99:F2} | " +
                $"{(row.HitRatio is { } h ? h.ToString("P0", CultureInfo.InvariantCulture) : "n/a")} | {perGet:F3} ms |");
        }
        text.Append(EndMarker);
        return text.ToString();
    }

    private static async Task ReplaceSectionAsync(string path, string section, CancellationToken ct)
    {
        var text = await File.ReadAllTextAsync(path, ct);
        var start = text.IndexOf(StartMarker, StringComparison.Ordinal);
        var end = text.IndexOf(EndMarker, StringComparison.Ordinal);
        if (start < 0 || end < start)
        {
            BenchContext.Log($"{path} has no {StartMarker} … {EndMarker} section: the table was not written there");
            return;
        }
        await File.WriteAllTextAsync(path, text[..start] + section + text[(end + EndMarker.Length)..], ct);
        BenchContext.Log($"Markdown: {Path.GetFullPath(path)} (gateway scaling section)");
    }
}
