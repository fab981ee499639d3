using System.Globalization;
using System.Text;
using Dfs.AppHost.Servers;
using Dfs.AppHost.Tests.Support;
using Dfs.Testing;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;

namespace Dfs.AppHost.Tests.Servers;

/// <summary>
/// RabbitMQ and its own epmd through the AppHost's hosting integration (AddRabbitMqServer) in an application of its own,
/// against the broker installed on this machine (about 7 s per start).
/// </summary>
public sealed class RabbitMqServerTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private static string Script => RabbitMqServerResource.FindServerScript() ?? throw new InvalidOperationException("RabbitMQ is not installed.");

    private Task<DfsServer> StartAsync() => DfsServer.StartAsync((builder, state) => builder.AddRabbitMqServer("messaging", Script, state), Ct, _state);

    /// <summary>Every process of that node: the script, the VM (beam.smp) and its helpers, found by the node name they carry.</summary>
    private static IReadOnlyList<int> NodeProcesses(RabbitMqServerResource broker) =>
        ProcessTable.Find(RabbitMqServerResource.NodeNameVariable + "=" + broker.NodeName);

    /// <summary>epmd daemons (the kind a broker left to itself starts, and that outlives everything).</summary>
    private static HashSet<int> EpmdDaemons() =>
        [.. Procs.Named("epmd").Where(p => Procs.CommandLine(p)?.Contains("-daemon", StringComparison.Ordinal) == true)];

    private static Task<IConnection> ConnectAsync(string connectionString) =>
        new ConnectionFactory { Uri = new Uri(connectionString), AutomaticRecoveryEnabled = false }.CreateConnectionAsync(Ct);

    [Fact]
    public async Task Its_own_node_on_loopback_ports_answers_amqp_and_leaves_no_beam_and_no_epmd_behind()
    {
        var daemonsBefore = EpmdDaemons();
        IReadOnlyList<int> processes;
        string nodeName;
        int epmdPid;
        await using (var server = await StartAsync())
        {
            var broker = (RabbitMqServerResource)server.Resource;
            nodeName = broker.NodeName;
            Assert.Matches("^dfs-[0-9a-f]{12}@localhost$", nodeName);
            Assert.Equal(nodeName, "dfs-" + ServerAccount.Hash(Path.Combine(_state, "messaging")) + "@localhost");
            var amqp = broker.PrimaryEndpoint.Port;
            var distribution = new Aspire.Hosting.ApplicationModel.EndpointReference(broker, RabbitMqServerResource.DistributionEndpointName).Port;
            var epmd = ((EpmdResource)server.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources
                .Single(r => r.Name == "messaging-epmd")).PrimaryEndpoint.Port;
            Assert.Equal(3, new[] { amqp, distribution, epmd }.Distinct().Count());
            Assert.Equal($"amqp://guest:guest@127.0.0.1:{amqp}/", server.ConnectionString);

            processes = NodeProcesses(broker);
            var beam = Assert.Single(processes, p => Procs.Name(p) == "beam.smp");
            epmdPid = ServerSupport.Pid(server.App, "messaging-epmd");
            Assert.Equal("epmd", Procs.Name(epmdPid));
            if (Environment.IsPrivilegedProcess)
                Assert.Equal("rabbitmq", (await Procs.RunAsync("stat", ["-c", "%U", $"/proc/{beam}"], Ct)).Output.Trim());
            // AMQP and the distribution port on the VM, epmd's own port: all on 127.0.0.1, nothing else listening.
            Assert.Equal([$"127.0.0.1:{amqp}", $"127.0.0.1:{distribution}"],
                Procs.WithDescendants(processes).SelectMany(Procs.ListeningOn).Distinct().Order(StringComparer.Ordinal));
            // epmd adds the loopback of each family to the address it is given: [::1] too, still loopback.
            var epmdListening = Procs.ListeningOn(epmdPid);
            Assert.Contains($"127.0.0.1:{epmd}", epmdListening);
            Assert.All(epmdListening, a => Assert.True(Procs.IsLoopback(a) && a.EndsWith($":{epmd}", StringComparison.Ordinal), a));

            // Healthy means it speaks AMQP: a durable queue round trip.
            await using (var connection = await ConnectAsync(server.ConnectionString))
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
            {
                await channel.QueueDeclareAsync("kept", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
                await channel.BasicPublishAsync("", "kept", mandatory: false, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes("hello"), Ct);
                BasicGetResult? got = null;
                await Procs.EventuallyAsync(() => (got = channel.BasicGetAsync("kept", autoAck: true, Ct).GetAwaiter().GetResult()) is not null,
                    TimeSpan.FromSeconds(5), "the message to arrive", Ct);
                Assert.Equal("hello", Encoding.UTF8.GetString(got!.Body.Span));
            }

            // Its Stop command: the broker goes, every process of its node with it.
            await server.App.ResourceCommands.ExecuteCommandAsync("messaging", Aspire.Hosting.ApplicationModel.KnownResourceCommands.StopCommand, Ct);
            await server.App.ResourceNotifications.WaitForResourceAsync("messaging", Aspire.Hosting.ApplicationModel.KnownResourceStates.TerminalStates, Ct);
            await Procs.AssertAllGoneAsync(processes, TimeSpan.FromSeconds(15));
            Assert.Empty(NodeProcesses(broker));
            Assert.True(Procs.IsAlive(epmdPid), "its epmd is a resource of its own, stopped with the application");
        }

        // The application's stop takes epmd along, and no epmd daemon was ever started.
        await Procs.AssertAllGoneAsync([epmdPid], TimeSpan.FromSeconds(15));
        Assert.Empty(Procs.Mentioning(nodeName, _state));
        Assert.Empty(EpmdDaemons().Except(daemonsBefore));
    }

    [Fact]
    public async Task A_stale_broker_of_the_same_node_is_stopped_at_the_next_start_and_durable_queues_are_kept()
    {
        IReadOnlyList<string> environment;
        string nodeName;
        int epmdPort;
        await using (var first = await StartAsync())
        {
            nodeName = ((RabbitMqServerResource)first.Resource).NodeName;
            epmdPort = ((EpmdResource)first.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources
                .Single(r => r.Name == "messaging-epmd")).PrimaryEndpoint.Port;
            // setpriv execs in place: the resource's pid is the rabbitmq-server script, with the environment it was given.
            environment = Procs.EnvironmentOf(ServerSupport.Pid(first))!;
            await using var connection = await ConnectAsync(first.ConnectionString);
            await using var channel = await connection.CreateChannelAsync(cancellationToken: Ct);
            await channel.QueueDeclareAsync("kept", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
        }
        Assert.Contains(environment, e => e == RabbitMqServerResource.NodeNameVariable + "=" + nodeName);

        // What an AppHost whose DCP died too would leave behind: its epmd and its broker, nobody supervising them.
        using var staleEpmd = new ServerSupport.Foreign(EpmdResource.DefaultProgram, ["-port", epmdPort.ToString(CultureInfo.InvariantCulture), "-address", "127.0.0.1"], user: null);
        using var stale = new ServerSupport.Foreign(Script, [], user: "rabbitmq", environment, workingDirectory: Path.Combine(_state, "messaging"));
        var amqp = environment.Single(e => e.StartsWith("RABBITMQ_NODE_PORT=", StringComparison.Ordinal))["RABBITMQ_NODE_PORT=".Length..];
        await Procs.EventuallyAsync(() => stale.HasExited || CanConnect(int.Parse(amqp, CultureInfo.InvariantCulture)), TimeSpan.FromSeconds(90), "the stale broker", Ct);
        Assert.False(stale.HasExited, stale.Output);
        var staleProcesses = ProcessTable.Find(RabbitMqServerResource.NodeNameVariable + "=" + nodeName);
        Assert.Contains(staleProcesses, p => Procs.Name(p) == "beam.smp");

        await using var second = await StartAsync();

        await Procs.AssertAllGoneAsync(staleProcesses);
        Assert.Empty(ProcessTable.Find(RabbitMqServerResource.NodeNameVariable + "=" + nodeName).Intersect(staleProcesses));
        await using (var connection = await ConnectAsync(second.ConnectionString))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
            await channel.QueueDeclarePassiveAsync("kept", Ct);
    }

    [Fact]
    public async Task Two_brokers_in_awkward_state_folders_run_side_by_side_each_with_its_own_node()
    {
        // A's state folder has mode 700; B's lies below a mode-700 folder that is not ours to open, like
        // ~/.local/share/dfs under /root: as root, the rabbitmq user needs a way in, or a home elsewhere.
        var stateA = Directory.CreateTempSubdirectory("dfs-rmq-700-").FullName;
        var blocked = Directory.CreateTempSubdirectory("dfs-rmq-blocked-").FullName;
        var stateB = Path.Combine(blocked, "state");
        Directory.CreateDirectory(stateB);
        string? relocated = null;
        try
        {
            var a = await DfsServer.StartAsync((builder, s) => builder.AddRabbitMqServer("messaging", Script, s), Ct, stateA);
            DfsServer b;
            try
            {
                b = await DfsServer.StartAsync((builder, s) => builder.AddRabbitMqServer("messaging", Script, s), Ct, stateB);
            }
            catch
            {
                await a.DisposeAsync();
                throw;
            }
            await using var _ = b;
            IReadOnlyList<int> processesA;
            await using (a)
            {
                var brokerA = (RabbitMqServerResource)a.Resource;
                var brokerB = (RabbitMqServerResource)b.Resource;
                Assert.NotEqual(brokerA.NodeName, brokerB.NodeName);
                Assert.Equal(6, new[] { Ports(a), Ports(b) }.SelectMany(p => p).Distinct().Count());
                processesA = NodeProcesses(brokerA);
                Assert.Empty(processesA.Intersect(NodeProcesses(brokerB)));

                // Its files: no plugins, a cookie only its owner reads, mnesia named after the node.
                foreach (var broker in new[] { brokerA, brokerB })
                {
                    Assert.Equal("[].\n", await File.ReadAllTextAsync(Path.Combine(broker.BaseDirectory, "enabled_plugins"), Ct));
                    var cookie = Path.Combine(broker.BaseDirectory, ".erlang.cookie");
                    Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(cookie));
                    Assert.Equal(Environment.IsPrivilegedProcess ? "rabbitmq" : Environment.UserName, (await Procs.RunAsync("stat", ["-c", "%U", cookie], Ct)).Output.Trim());
                    Assert.True(Directory.Exists(Path.Combine(broker.BaseDirectory, "mnesia", broker.NodeName)), broker.NodeName);
                }
                if (Environment.IsPrivilegedProcess)
                {
                    Assert.True(File.GetUnixFileMode(stateA).HasFlag(UnixFileMode.OtherExecute), "the rabbitmq user may pass through A's state folder");
                    Assert.Null(new DirectoryInfo(Path.Combine(stateA, "messaging", "broker")).LinkTarget);
                    relocated = new DirectoryInfo(Path.Combine(stateB, "messaging", "broker")).LinkTarget;
                    Assert.NotNull(relocated);
                    Assert.Equal(relocated, brokerB.BaseDirectory);
                    Assert.StartsWith(Path.Combine(ServerAccount.RabbitMq.RelocationRoot, ""), relocated);
                    Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(blocked));
                }

                await using (var connection = await ConnectAsync(a.ConnectionString))
                await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
                    await channel.QueueDeclareAsync("only-in-a", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
                await using (var connection = await ConnectAsync(b.ConnectionString))
                await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
                {
                    var missing = await Assert.ThrowsAsync<RabbitMQ.Client.Exceptions.OperationInterruptedException>(() => channel.QueueDeclarePassiveAsync("only-in-a", Ct));
                    Assert.Equal(404, missing.ShutdownReason!.ReplyCode);
                }
            }

            // A stopped, B untouched.
            await Procs.AssertAllGoneAsync(processesA, TimeSpan.FromSeconds(15));
            Assert.All(NodeProcesses((RabbitMqServerResource)b.Resource), p => Assert.True(Procs.IsAlive(p)));
            await using (var connection = await ConnectAsync(b.ConnectionString))
                Assert.True(connection.IsOpen);
        }
        finally
        {
            Directory.Delete(stateA, recursive: true);
            Directory.Delete(blocked, recursive: true);
            if (relocated is not null && Directory.Exists(relocated)) Directory.Delete(relocated, recursive: true);
        }
    }

    /// <summary>A broker's AMQP, distribution and epmd ports.</summary>
    private static int[] Ports(DfsServer server)
    {
        var broker = (RabbitMqServerResource)server.Resource;
        var epmd = (EpmdResource)server.App.Services.GetRequiredService<Aspire.Hosting.ApplicationModel.DistributedApplicationModel>().Resources.Single(r => r.Name == "messaging-epmd");
        return [broker.PrimaryEndpoint.Port, new Aspire.Hosting.ApplicationModel.EndpointReference(broker, RabbitMqServerResource.DistributionEndpointName).Port, epmd.PrimaryEndpoint.Port];
    }

    private static bool CanConnect(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }
}
