using System.Diagnostics;
using System.Globalization;
using System.Text;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Dfs.AppHost.Resources;
using Dfs.AppHost.Testing;
using Dfs.AppHost.Tests.Support;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Dfs.AppHost.Tests;

/// <summary>The RabbitMQ resource against the real broker installed on this machine (about 7 s per start).</summary>
public sealed class RabbitMqResourceTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A temporary state folder unless given; a given one is deleted on dispose too.</summary>
    private static DfsApplicationBuilder RabbitOnly(string? stateDir = null)
    {
        var builder = DfsTestingBuilder.CreateEmpty(o =>
        {
            o.Profile = Profiles.Local;
            if (stateDir is not null) o.StateDir = stateDir;
        }, TestLogging.Factory());
        if (stateDir is not null) builder.DeleteStateDirectoryOnDispose = true;
        builder.AddRabbitMq();
        return builder;
    }

    private static RabbitMqResource Broker(DfsApplication app) => (RabbitMqResource)app.Resources.Single(r => r.Name == ResourceNames.RabbitMq);

    private static Task<IConnection> ConnectAsync(string connectionString) =>
        new ConnectionFactory { Uri = new Uri(connectionString), AutomaticRecoveryEnabled = false }.CreateConnectionAsync(Ct);

    /// <summary>A publish without confirms reaches the queue a moment later: poll.</summary>
    private static async Task<string> GetAsync(IChannel channel, string queue)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (true)
        {
            if (await channel.BasicGetAsync(queue, autoAck: true, Ct) is { } result) return Encoding.UTF8.GetString(result.Body.Span);
            Assert.True(DateTime.UtcNow < deadline, $"no message arrived in {queue}");
            await Task.Delay(50, Ct);
        }
    }

    private static ValueTask PublishAsync(IChannel channel, string queue, string text) =>
        channel.BasicPublishAsync("", queue, mandatory: false, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes(text), Ct);

    /// <summary>Everything that could betray a broker of this state folder: the folder itself, its node name and its ports.</summary>
    private static string[] Traces(string stateDir, RabbitMqResource broker) =>
    [
        stateDir,
        broker.NodeName,
        "ERL_EPMD_PORT=" + broker.EpmdPort.ToString(CultureInfo.InvariantCulture),
        "-epmd_port " + broker.EpmdPort.ToString(CultureInfo.InvariantCulture),
        "RABBITMQ_NODE_PORT=" + broker.Port.ToString(CultureInfo.InvariantCulture),
        "RABBITMQ_DIST_PORT=" + broker.DistributionPort.ToString(CultureInfo.InvariantCulture),
    ];

    [Fact]
    public async Task Serves_amqp_keeps_its_port_and_durable_queues_across_restarts_stops_a_stale_broker_and_leaves_nothing_behind()
    {
        var builder = RabbitOnly();
        var stateDir = builder.StateDirectory;
        await using var app = builder.Build();
        await app.StartAsync(Ct);

        var broker = Broker(app);
        var port = app.GetEndpoint("rabbitmq").Port;
        var cs = app.GetConnectionString(ResourceNames.MessagingConnection)!;
        Assert.Equal($"amqp://guest:guest@127.0.0.1:{port}/", cs);
        Assert.Equal($"amqp://127.0.0.1:{port}/", app.GetEndpoint("rabbitmq").ToString());
        Assert.Matches("^dfs-[0-9a-f]{12}@localhost$", broker.NodeName);
        Assert.Equal(3, new[] { port, broker.DistributionPort, broker.EpmdPort }.Distinct().Count());
        Assert.Equal(Path.Combine(stateDir, "rabbitmq"), broker.BaseDirectory);
        Assert.True(Directory.Exists(Path.Combine(stateDir, "rabbitmq", "mnesia", broker.NodeName)));
        Assert.Equal("[].\n", await File.ReadAllTextAsync(Path.Combine(stateDir, "rabbitmq", "enabled_plugins"), Ct));
        var cookie = Path.Combine(stateDir, "rabbitmq", ".erlang.cookie");
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(cookie));
        var runAs = Environment.IsPrivilegedProcess ? "rabbitmq" : Environment.UserName;
        Assert.Equal(runAs, Procs.Owner(cookie));
        // The console log is ours: in the resource's output and StateDir/logs/rabbitmq.log. Healthy only once
        // booted: the log said so or the banner did (the other one follows; their order is not fixed).
        Assert.Contains(broker.RecentOutput(1000), l => l.Contains("Server startup complete", StringComparison.Ordinal)
            || l.Contains(" completed with 0 plugins.", StringComparison.Ordinal));
        await Procs.EventuallyAsync(() => broker.RecentOutput(1000).Any(l => l.Contains(" completed with 0 plugins.", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(5), "the banner to say no plugin was started");
        Assert.Contains("Starting broker", await File.ReadAllTextAsync(Path.Combine(stateDir, "logs", "rabbitmq.log"), Ct));

        var processes = broker.FindProcesses();
        var beam = Assert.Single(processes, p => ProcessTable.Name(p) == "beam.smp");
        var epmd = Assert.Single(processes, p => ProcessTable.Name(p) == "epmd");
        Assert.Contains(beam, Procs.WithDescendants(app.GetResource("rabbitmq").Pid!.Value));
        Assert.Equal(runAs, Procs.Owner($"/proc/{beam}"));
        Assert.Contains("ERL_EPMD_PORT=" + broker.EpmdPort.ToString(CultureInfo.InvariantCulture), ProcessTable.EnvironmentOf(epmd)!);

        await using (var connection = await ConnectAsync(cs))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            await channel.QueueDeclareAsync("kept", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
            await PublishAsync(channel, "kept", "hello");
            Assert.Equal("hello", await GetAsync(channel, "kept"));
            await PublishAsync(channel, "kept", "survives a restart");
            await Procs.EventuallyAsync(() => channel.MessageCountAsync("kept", Ct).Result == 1, TimeSpan.FromSeconds(5), "the message to be queued");
        }

        await app.StopResourceAsync("rabbitmq", Ct);

        Assert.Equal(ResourceState.Stopped, app.GetResource("rabbitmq").State);
        await Procs.AssertAllGoneAsync(processes);
        Assert.Empty(broker.FindProcesses());
        Assert.DoesNotContain(broker.RecentOutput(1000), l => l.Contains("killing its process tree", StringComparison.Ordinal));
        await Procs.EventuallyAsync(() => broker.RecentOutput(1000).Any(l => l.Contains("SIGTERM received", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(5), "the broker's word that it stopped on SIGTERM");

        await app.StartResourceAsync("rabbitmq", Ct);

        Assert.Equal(port, app.GetEndpoint("rabbitmq").Port);
        Assert.Equal(cs, app.GetConnectionString(ResourceNames.MessagingConnection));
        await using (var connection = await ConnectAsync(cs))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
        {
            var kept = await channel.QueueDeclarePassiveAsync("kept", Ct);
            Assert.Equal(1u, kept.MessageCount);
            Assert.Equal("survives a restart", await GetAsync(channel, "kept"));
        }
        // setpriv and setsid exec in place: the resource's pid is the rabbitmq-server script, with the environment it was given.
        var environment = ProcessTable.EnvironmentOf(app.GetResource("rabbitmq").Pid!.Value)!;
        await app.StopResourceAsync("rabbitmq", Ct);

        // What an AppHost killed with SIGKILL leaves behind: a broker and its epmd that nobody supervises.
        using (var stale = StartBroker(broker, environment))
        {
            await Procs.EventuallyAsync(() => stale.HasExited || CanConnect(cs), TimeSpan.FromSeconds(90), "the stale broker");
            Assert.False(stale.HasExited, "the stale broker runs");
            var staleProcesses = broker.FindProcesses();
            Assert.Contains(staleProcesses, p => ProcessTable.Name(p) == "epmd");

            await app.StartResourceAsync("rabbitmq", Ct);

            await Procs.AssertAllGoneAsync(staleProcesses);
            Assert.Contains(broker.RecentOutput(1000), l => l.Contains("stopping a stale broker", StringComparison.Ordinal));
            Assert.Empty(broker.FindProcesses().Intersect(staleProcesses));
        }
        Assert.Equal(port, app.GetEndpoint("rabbitmq").Port);
        await using (var connection = await ConnectAsync(cs))
        await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
            await channel.QueueDeclarePassiveAsync("kept", Ct);
        processes = broker.FindProcesses();
        Assert.Contains(processes, p => ProcessTable.Name(p) == "epmd");

        await app.DisposeAsync();

        await Procs.AssertAllGoneAsync(processes);
        Assert.Empty(Procs.Mentioning(Traces(stateDir, broker)));
        Assert.False(Directory.Exists(stateDir));
    }

    [Fact]
    public async Task Two_brokers_in_two_awkward_state_folders_run_side_by_side_and_one_can_be_killed_at_once()
    {
        // A's state folder has mode 700; B's lies below a mode-700 folder that is not ours to open, like
        // ~/.local/share/dfs under /root: as root, the rabbitmq user needs a way in or a home elsewhere.
        var stateA = Directory.CreateTempSubdirectory("dfs-rmq-700-").FullName;
        var blocked = Directory.CreateTempSubdirectory("dfs-rmq-blocked-").FullName;
        var stateB = Path.Combine(blocked, "state");
        try
        {
            var builderA = RabbitOnly(stateA);
            var builderB = RabbitOnly(stateB);
            await using var a = builderA.Build();
            await using var b = builderB.Build();

            await Task.WhenAll(a.StartAsync(Ct), b.StartAsync(Ct));

            var brokerA = Broker(a);
            var brokerB = Broker(b);
            Assert.NotEqual(brokerA.NodeName, brokerB.NodeName);
            Assert.Equal(6, new[] { brokerA.Port, brokerA.DistributionPort, brokerA.EpmdPort, brokerB.Port, brokerB.DistributionPort, brokerB.EpmdPort }.Distinct().Count());
            var processesA = brokerA.FindProcesses();
            var processesB = brokerB.FindProcesses();
            Assert.Empty(processesA.Intersect(processesB));
            Assert.Single(processesA, p => ProcessTable.Name(p) == "epmd");
            Assert.Single(processesB, p => ProcessTable.Name(p) == "epmd");
            Assert.Null(brokerA.RelocatedDirectory);
            var relocated = brokerB.RelocatedDirectory;
            if (Environment.IsPrivilegedProcess)
            {
                Assert.True(File.GetUnixFileMode(stateA).HasFlag(UnixFileMode.OtherExecute), "the rabbitmq user may pass through A's state folder");
                Assert.NotNull(relocated);
                Assert.False(relocated.StartsWith(blocked, StringComparison.Ordinal));
                Assert.Equal(Path.Combine(relocated, "mnesia"), new DirectoryInfo(Path.Combine(stateB, "rabbitmq", "mnesia")).LinkTarget);
                Assert.True(Directory.Exists(Path.Combine(stateB, "rabbitmq", "mnesia", brokerB.NodeName)));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(blocked));
            }

            await using (var connection = await ConnectAsync(a.GetConnectionString("messaging")!))
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
                await channel.QueueDeclareAsync("only-in-a", durable: true, exclusive: false, autoDelete: false, cancellationToken: Ct);
            await using (var connection = await ConnectAsync(b.GetConnectionString("messaging")!))
            await using (var channel = await connection.CreateChannelAsync(cancellationToken: Ct))
            {
                var missing = await Assert.ThrowsAsync<OperationInterruptedException>(() => channel.QueueDeclarePassiveAsync("only-in-a", Ct));
                Assert.Equal(404, missing.ShutdownReason!.ReplyCode);
            }

            // A second Ctrl+C, or the AppHost exiting: SIGKILL at once, epmd (outside the process group) included.
            a.KillAll();

            await Procs.AssertAllGoneAsync(processesA);
            Assert.Equal(ResourceState.Running, b.GetResource("rabbitmq").State);
            Assert.All(processesB, p => Assert.True(Procs.IsAlive(p), $"{p} {ProcessTable.Name(p)} of the other broker is alive"));
            await using (var connection = await ConnectAsync(b.GetConnectionString("messaging")!))
                Assert.True(connection.IsOpen);

            await a.DisposeAsync();
            await b.DisposeAsync();

            await Procs.AssertAllGoneAsync(processesB);
            Assert.Empty(Procs.Mentioning([.. Traces(stateA, brokerA), .. Traces(stateB, brokerB), .. relocated is null ? [] : new[] { relocated }]));
            Assert.False(Directory.Exists(stateA));
            Assert.False(Directory.Exists(stateB));
            if (relocated is not null) Assert.False(Directory.Exists(relocated), "a temporary state folder takes its relocated broker along");
        }
        finally
        {
            if (Directory.Exists(stateA)) Directory.Delete(stateA, recursive: true);
            Directory.Delete(blocked, recursive: true);
        }
    }

    private static bool CanConnect(string connectionString)
    {
        try
        {
            using var connection = ConnectAsync(connectionString).GetAwaiter().GetResult();
            return connection.IsOpen;
        }
        catch (BrokerUnreachableException)
        {
            return false;
        }
    }

    private static Process StartBroker(RabbitMqResource broker, IReadOnlyList<string> environment)
    {
        var psi = new ProcessStartInfo("/usr/bin/setsid") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (Environment.IsPrivilegedProcess)
            foreach (var arg in (string[])["/usr/bin/setpriv", "--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups", "--"]) psi.ArgumentList.Add(arg);
        psi.ArgumentList.Add(broker.ServerPath);
        psi.Environment.Clear();
        foreach (var entry in environment)
        {
            var eq = entry.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) psi.Environment[entry[..eq]] = entry[(eq + 1)..];
        }
        psi.WorkingDirectory = broker.BaseDirectory;
        var process = Process.Start(psi)!;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
