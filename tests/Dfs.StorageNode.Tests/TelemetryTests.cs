using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Dfs.StorageNode.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.StorageNode.Tests;

public sealed class TelemetryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Counters_record_writes_reads_and_integrity_rejections()
    {
        await using var node = NodeHost.Start();
        var meterFactory = node.Services.GetRequiredService<IMeterFactory>();
        var totals = new ConcurrentDictionary<string, long>();
        using var listener = new MeterListener
        {
            // Other tests' nodes run in this process too: only this node's meter counts.
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "Dfs.StorageNode" && instrument.Meter.Scope == meterFactory) l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) => totals.AddOrUpdate(instrument.Name, value, (_, total) => total + value));
        listener.Start();

        var (id, bytes) = TestChunks.Random(5000);
        await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
        await node.Client.PutChunkAsync(node.Url, id, bytes, Ct);
        await Assert.ThrowsAnyAsync<Exception>(() => node.Client.PutChunkAsync(node.Url, TestChunks.Random(10).Id, new byte[10], Ct));
        await using (var range = await node.Client.OpenChunkAsync(node.Url, id, 0, 999, Ct))
            await range.CopyToAsync(Stream.Null, Ct);

        Assert.True(await TestChunks.EventuallyAsync(() => totals.GetValueOrDefault("dfs.storage_node.bytes_read") == 1000));
        Assert.Equal(1, totals.GetValueOrDefault("dfs.storage_node.chunks_written"));
        Assert.Equal(5000, totals.GetValueOrDefault("dfs.storage_node.bytes_written"));
        Assert.Equal(1, totals.GetValueOrDefault("dfs.storage_node.integrity_rejections"));
    }
}
