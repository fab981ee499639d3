using Dfs.Contracts.Clients;

namespace Dfs.IntegrationTests;

/// <summary>
/// The gateway's Refit client (<see cref="IGatewayApi"/>) against the real cluster, streaming a file bigger than any
/// buffer should be: neither direction may hold the file, so the test process's memory stays flat while 1 GiB goes up
/// and comes back.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class RefitStreamingTests(ClusterFixture cluster)
{
    private const long Size = 1L << 30;
    /// <summary>
    /// A client that buffered the file would hold all of it at once. The sampler sees the whole process's heap, and the
    /// other test classes run in parallel in this process, so their garbage between two collections counts too (CI saw
    /// 126 MiB of it); a quarter of the file stays far from both.
    /// </summary>
    private const long MemoryBound = Size / 4;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_1_GiB_file_streams_up_and_down_through_the_refit_client_in_bounded_memory()
    {
        var expected = TestData.Sha256Of(new TestData.RandomStream(Size, 1024));
        using var sampler = new MemorySampler();

        var put = await cluster.Gateway.PutFileAsync("/refit/1gib.bin", new TestData.RandomStream(Size, 1024), ct: Ct);
        Assert.Equal(Size, put.Size);
        Assert.Equal(expected, put.Sha256);
        var afterUpload = sampler.PeakGrowth;

        await using (var download = await cluster.Gateway.GetFileAsync("/refit/1gib.bin", ct: Ct))
        {
            Assert.Equal(Size, download.Length);
            Assert.Equal(expected, await TestData.Sha256OfAsync(download.Content));
            Assert.Equal(expected, download.Sha256Hex);
        }
        await cluster.Gateway.DeleteAsync("/refit/1gib.bin", recursive: false, Ct);

        Assert.True(afterUpload < MemoryBound, $"the upload grew the managed heap by {afterUpload >> 20} MiB");
        Assert.True(sampler.PeakGrowth < MemoryBound, $"the download grew the managed heap by {sampler.PeakGrowth >> 20} MiB");
    }

    /// <summary>The managed heap's growth over its size at the start, sampled every 50 ms.</summary>
    private sealed class MemorySampler : IDisposable
    {
        private readonly long _baseline;
        private readonly Timer _timer;
        private long _peak;

        public MemorySampler()
        {
            _baseline = GC.GetTotalMemory(forceFullCollection: true);
            _timer = new Timer(_ => Sample(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(50));
        }

        public long PeakGrowth
        {
            get
            {
                Sample();
                return Interlocked.Read(ref _peak) - _baseline;
            }
        }

        private void Sample()
        {
            var now = GC.GetTotalMemory(forceFullCollection: false);
            long seen;
            do seen = Interlocked.Read(ref _peak);
            while (now > seen && Interlocked.CompareExchange(ref _peak, now, seen) != seen);
        }

        public void Dispose() => _timer.Dispose();
    }
}
