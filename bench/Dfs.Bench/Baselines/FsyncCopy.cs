using System.Buffers;
using System.Diagnostics;

namespace Dfs.Bench.Baselines;

/// <summary>The floor any durable store has to beat: copy a file with a 1 MiB buffer, then fsync, on the cluster's disk.</summary>
public static class FsyncCopy
{
    public static async Task<double> CopyAsync(string source, string destination, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            await using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using var output = new FileStream(destination, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous);
            int read;
            while ((read = await input.ReadAsync(buffer.AsMemory(0, 1 << 20), ct)) > 0)
                await output.WriteAsync(buffer.AsMemory(0, read), ct);
            output.Flush(flushToDisk: true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
        return Stopwatch.GetElapsedTime(started).TotalSeconds;
    }
}
