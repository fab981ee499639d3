using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Servers;

public static class RedisServerBuilderExtensions
{
    /// <summary>
    /// redis-server with its data (append-only file, fsynced every second) in STATE/NAME, listening on 127.0.0.1 only;
    /// healthy once PING answers PONG.
    /// </summary>
    public static IResourceBuilder<RedisServerResource> AddRedisServer(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string program, string stateDirectory)
    {
        var dataDirectory = Path.Combine(stateDirectory, name);
        var redis = new RedisServerResource(name, program, dataDirectory);
        var healthCheck = name + "_ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheck, _ => new PingCheck(redis), null, null));
        return builder.AddResource(redis)
            .WithEndpoint(name: RedisServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("--port");
                context.Args.Add(redis.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                context.Args.Add("--bind");
                context.Args.Add("127.0.0.1");
                context.Args.Add("--dir");
                context.Args.Add(dataDirectory);
                context.Args.Add("--appendonly");
                context.Args.Add("yes");
                context.Args.Add("--daemonize");
                context.Args.Add("no");
            })
            .WithHealthCheck(healthCheck)
            .OnBeforeResourceStarted(async (resource, e, ct) =>
            {
                Directory.CreateDirectory(dataDirectory);
                // One redis-server per data folder: a stale one (its AppHost was killed) would write the same append-only file.
                // It is known by the folder it works in (--dir): its command line no longer names it.
                var stale = ProcessTable.FindWorkingIn(dataDirectory, Path.GetFileName(program));
                if (stale.Count == 0) return;
                e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource)
                    .LogWarning("Stopping a stale redis-server (pids {Pids}) that still uses {Folder}", string.Join(", ", stale), dataDirectory);
                if (!await ProcessTable.StopAsync(stale, TimeSpan.FromSeconds(10), ct: ct))
                    throw new InvalidOperationException($"A stale redis-server uses {dataDirectory} and does not exit.");
            })
            .ExcludeFromManifest();
    }

    private sealed class PingCheck(RedisServerResource redis) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!redis.PrimaryEndpoint.IsAllocated) return HealthCheckResult.Unhealthy("Not started yet.");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync("127.0.0.1", redis.PrimaryEndpoint.Port, timeout.Token);
                await socket.SendAsync("PING\r\n"u8.ToArray(), timeout.Token);
                var answer = new byte[7];
                var read = 0;
                while (read < answer.Length)
                {
                    var n = await socket.ReceiveAsync(answer.AsMemory(read), timeout.Token);
                    if (n == 0) break;
                    read += n;
                }
                // "-LOADING …" while it replays its append-only file: not ready yet.
                return answer.AsSpan(0, read).SequenceEqual("+PONG\r\n"u8)
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("Redis answered " + System.Text.Encoding.ASCII.GetString(answer, 0, read).Trim());
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        }
    }
}
