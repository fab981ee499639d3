using Dfs.Contracts.Integrity;

namespace Dfs.StorageNode.Tests.Infrastructure;

public static class TestChunks
{
    public static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        System.Random.Shared.NextBytes(bytes);
        return bytes;
    }

    public static (string Id, byte[] Bytes) Random(int length)
    {
        var bytes = RandomBytes(length);
        return (ChunkIds.Compute(bytes), bytes);
    }

    public static ByteArrayContent Content(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new("application/octet-stream");
        return content;
    }

    /// <summary>Polls until <paramref name="condition"/> holds or the time is up.</summary>
    public static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(10));
        while (DateTime.UtcNow < deadline)
        {
            if (condition()) return true;
            await Task.Delay(50);
        }
        return condition();
    }
}
