using Dfs.AppHost.Servers;
using Dfs.AppHost.Tests.Support;
using Dfs.Testing;

namespace Dfs.AppHost.Tests.Servers;

/// <summary>Redis through the AppHost's hosting integration (AddRedisServer) in an application of its own, against this machine's redis-server.</summary>
public sealed class RedisServerTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static string Program => RedisServerResource.FindServer() ?? throw new InvalidOperationException("Redis is not installed.");

    private Task<DfsServer> StartAsync() => DfsServer.StartAsync((builder, state) => builder.AddRedisServer("cache", Program, state), Ct, _state);

    [Fact]
    public async Task Healthy_answers_PING_on_loopback_only_and_its_data_outlives_the_app()
    {
        int pid;
        await using (var first = await StartAsync())
        {
            var port = ((RedisServerResource)first.Resource).PrimaryEndpoint.Port;
            Assert.Equal($"127.0.0.1:{port}", first.ConnectionString);
            Assert.Equal("+PONG", await ServerSupport.RedisAsync(port, Ct, "PING"));
            pid = ServerSupport.Pid(first);
            Assert.Equal("redis-server", Procs.Name(pid));
            Assert.Equal([$"127.0.0.1:{port}"], Procs.ListeningOn(pid));
            Assert.Equal("+OK", await ServerSupport.RedisAsync(port, Ct, "SET", "kept", "across-restarts"));
        }
        await Procs.AssertAllGoneAsync([pid]);
        // Append-only: the write is in the state folder's AOF, not only in memory.
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(_state, "cache"), "*.aof*", SearchOption.AllDirectories));

        await using var second = await StartAsync();

        var again = ((RedisServerResource)second.Resource).PrimaryEndpoint.Port;
        Assert.Equal("$15\r\nacross-restarts", await ServerSupport.RedisAsync(again, Ct, "GET", "kept"));
        Assert.Equal("$-1", await ServerSupport.RedisAsync(again, Ct, "GET", "never-set"));
    }

    [Fact]
    public async Task A_stale_redis_server_on_the_same_folder_is_stopped_at_the_next_start()
    {
        var folder = Path.Combine(_state, "cache");
        Directory.CreateDirectory(folder);
        using var stale = new ServerSupport.Foreign(Program,
            ["--port", ServerSupport.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--dir", folder,
                "--appendonly", "yes", "--daemonize", "no"], user: null);
        await Procs.EventuallyAsync(() => stale.HasExited || stale.Output.Contains("Ready to accept connections", StringComparison.Ordinal),
            TimeSpan.FromSeconds(15), "the stale redis-server", Ct);
        Assert.False(stale.HasExited, stale.Output);

        await using var server = await StartAsync();

        await Procs.AssertAllGoneAsync([stale.Pid]);
        Assert.Equal("+PONG", await ServerSupport.RedisAsync(((RedisServerResource)server.Resource).PrimaryEndpoint.Port, Ct, "PING"));
    }
}
