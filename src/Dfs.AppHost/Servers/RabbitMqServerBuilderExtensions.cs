using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dfs.AppHost.Servers;

public static class RabbitMqServerBuilderExtensions
{
    /// <summary>AMQP 0-9-1's protocol header: a broker that has booted answers it with a Connection.Start method frame.</summary>
    private static readonly byte[] ProtocolHeader = "AMQP\0\0\u0009\u0001"u8.ToArray();
    private const byte MethodFrame = 1;

    /// <summary>
    /// RabbitMQ from <paramref name="serverScript"/> with its files in STATE/NAME, listening on 127.0.0.1 only, and its own
    /// epmd as the resource NAME-epmd (started first); healthy once it answers the AMQP protocol header.
    /// </summary>
    public static IResourceBuilder<RabbitMqServerResource> AddRabbitMqServer(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string serverScript, string stateDirectory)
    {
        var rootDirectory = Path.Combine(stateDirectory, name);
        Directory.CreateDirectory(rootDirectory);
        var epmd = builder.AddResource(new EpmdResource(name + "-epmd", EpmdResource.DefaultProgram, rootDirectory))
            .WithEndpoint(name: EpmdResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                context.Args.Add("-port");
                context.Args.Add(context.Resource is EpmdResource e ? e.PrimaryEndpoint.Property(EndpointProperty.TargetPort) : "");
                context.Args.Add("-address");
                context.Args.Add("127.0.0.1");
            })
            .ExcludeFromManifest();

        var broker = new RabbitMqServerResource(name, serverScript, rootDirectory);
        var healthCheck = name + "_ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheck, _ => new AmqpReadyCheck(broker), null, null));
        var dist = new EndpointReference(broker, RabbitMqServerResource.DistributionEndpointName);
        return builder.AddResource(broker)
            .WithEndpoint(name: RabbitMqServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithEndpoint(name: RabbitMqServerResource.DistributionEndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var argument in ServerAccount.RabbitMq.LauncherArguments(serverScript)) context.Args.Add(argument);
            })
            .WithEnvironment(context =>
            {
                var env = context.EnvironmentVariables;
                // Nothing of a RabbitMQ set up for the machine (or the AppHost's shell) may reach this broker; under
                // systemd the script would exec the VM itself, without the shell that turns SIGTERM into a clean stop.
                foreach (var key in Environment.GetEnvironmentVariables().Keys.OfType<string>())
                    if (key.StartsWith("RABBITMQ_", StringComparison.Ordinal) || key.StartsWith("ERL_", StringComparison.Ordinal) || key == "NOTIFY_SOCKET")
                        env[key] = "";
                env[RabbitMqServerResource.NodeNameVariable] = broker.NodeName;
                env["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1";
                env["RABBITMQ_NODE_PORT"] = broker.PrimaryEndpoint.Property(EndpointProperty.TargetPort);
                env["RABBITMQ_DIST_PORT"] = dist.Property(EndpointProperty.TargetPort);
                env["ERL_EPMD_ADDRESS"] = "127.0.0.1";
                env["ERL_EPMD_PORT"] = epmd.Resource.PrimaryEndpoint.Property(EndpointProperty.TargetPort);
                env["HOME"] = broker.BaseDirectory;
                env["RABBITMQ_MNESIA_BASE"] = Path.Combine(broker.BaseDirectory, "mnesia");
                env["RABBITMQ_LOG_BASE"] = Path.Combine(broker.BaseDirectory, "log");
                // The broker's log goes to its console, which the dashboard shows.
                env["RABBITMQ_LOGS"] = "-";
                env["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(broker.BaseDirectory, "enabled_plugins");
                // Configuration of its own (none unless someone writes these files), never /etc/rabbitmq's.
                env["RABBITMQ_CONF_ENV_FILE"] = Path.Combine(broker.BaseDirectory, "rabbitmq-env.conf");
                env["RABBITMQ_CONFIG_FILE"] = Path.Combine(broker.BaseDirectory, "rabbitmq.conf");
                env["RABBITMQ_CONFIG_FILES"] = Path.Combine(broker.BaseDirectory, "conf.d");
                env["RABBITMQ_ADVANCED_CONFIG_FILE"] = Path.Combine(broker.BaseDirectory, "advanced.config");
                // Without inet_dist_use_interface the distribution port binds 0.0.0.0; epmd is ours, never the VM's own.
                env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] = "-kernel inet_dist_use_interface {127,0,0,1} -start_epmd false";
                // The script's own stop runs rabbitmqctl, which would otherwise spawn a daemon epmd when ours is already gone.
                env["RABBITMQ_CTL_ERL_ARGS"] = "-start_epmd false";
            })
            .WithHealthCheck(healthCheck)
            .WaitFor(epmd)
            .WithParentRelationship(epmd)
            .OnBeforeResourceStarted((resource, e, ct) =>
                resource.PrepareAsync(stateDirectory, e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource), ct))
            .ExcludeFromManifest();
    }

    private sealed class AmqpReadyCheck(RabbitMqServerResource broker) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!broker.PrimaryEndpoint.IsAllocated) return HealthCheckResult.Unhealthy("Not started yet.");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync("127.0.0.1", broker.PrimaryEndpoint.Port, timeout.Token);
                await socket.SendAsync(ProtocolHeader, timeout.Token);
                var answer = new byte[1];
                var read = await socket.ReceiveAsync(answer, timeout.Token);
                return read == 1 && answer[0] == MethodFrame
                    ? HealthCheckResult.Healthy()
                    : HealthCheckResult.Unhealthy("The broker closed the connection without starting AMQP.");
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                return HealthCheckResult.Unhealthy(e.Message);
            }
        }
    }
}
