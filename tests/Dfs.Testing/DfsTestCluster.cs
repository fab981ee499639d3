using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Testing;
using Dfs.AppHost.Cluster;
using Dfs.AppHost.Servers;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Testing;

/// <summary>
/// A real Dfs cluster for a test or the benchmark: the AppHost (Projects.Dfs_AppHost) built and started through
/// Aspire.Hosting.Testing's <see cref="DistributedApplicationTestingBuilder"/> with a temp state folder, every resource it
/// starts waited for until healthy. What it adds over the <see cref="DistributedApplication"/> is only access: admin and
/// cluster-signed clients, where a node keeps a chunk, and faults through the resource commands or the service's pid.
/// </summary>
public sealed class DfsTestCluster : IAsyncDisposable
{
    private static readonly TimeSpan StartLimit = TimeSpan.FromMinutes(4);
    private readonly bool _temporary;
    private readonly ConcurrentDictionary<string, LogTail> _logs = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopLogs = new();

    private DfsTestCluster(DistributedApplication app, string stateDirectory, bool temporary)
    {
        App = app;
        StateDirectory = stateDirectory;
        _temporary = temporary;
    }

    public DistributedApplication App { get; }

    public string StateDirectory { get; }

    /// <summary>The AppHost's own view of the run: its settings, profile, cluster secret.</summary>
    public DfsCluster Cluster => App.Services.GetRequiredService<DfsCluster>();

    public DistributedApplicationModel Model => App.Services.GetRequiredService<DistributedApplicationModel>();

    public Uri GatewayUrl => GatewayUrlOf(DfsCluster.GatewayName);

    /// <summary>The gateways of the run: gateway, gateway-2, … (--gateways).</summary>
    public IReadOnlyList<string> Gateways => [.. Cluster.GatewayNames];

    public Uri GatewayUrlOf(string gateway) => new($"{Cluster.GatewayScheme}://127.0.0.1:{Project(gateway).GetEndpoint(Cluster.GatewayScheme).Port}");

    /// <summary>Builds and starts the cluster the options describe; returns once every resource it starts is healthy.</summary>
    public static async Task<DfsTestCluster> StartAsync(Action<DfsClusterOptions>? configure, CancellationToken ct)
    {
        var options = new DfsClusterOptions();
        configure?.Invoke(options);
        var temporary = options.StateDirectory is null;
        var stateDirectory = options.StateDirectory ?? NewStateDirectory();
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Dfs_AppHost>([.. options.ToArguments(stateDirectory)],
            (app, _) =>
            {
                app.DisableDashboard = true;
                app.EnableResourceLogging = options.ResourceLogs;
            }, ct);
        var application = await builder.BuildAsync(ct);
        var cluster = new DfsTestCluster(application, stateDirectory, temporary);
        try
        {
            if (options.ResourceLogs) cluster.CollectLogs();
            await application.StartAsync(ct);
            await cluster.WaitUntilStartedAsync(ct);
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Not Directory.CreateTempSubdirectory: its mode 700 would keep the postgres user out.</summary>
    public static string NewStateDirectory()
    {
        var folder = Path.Combine(Path.GetTempPath(), "dfs-test-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        return folder;
    }

    /// <summary>The first admin's HTTP Basic credentials, for clients the tests build themselves (raw sockets, curl-like clients).</summary>
    public static AuthenticationHeaderValue AdminAuthorization => GatewayCredentials.Basic(AdminPassword.User, DfsClusterOptions.AdminPassword);

    /// <summary>The storage nodes of the model (node-1…, spares included), in order.</summary>
    public IReadOnlyList<string> StorageNodes =>
        [.. Model.Resources.OfType<ProjectResource>().Where(r => r.Name.StartsWith(DfsCluster.StorageNodePrefix, StringComparison.Ordinal)).Select(r => r.Name)];

    /// <summary>The storage nodes whose resource is running now (not a spare never started, not one stopped, killed or removed).</summary>
    public IReadOnlyList<string> RunningStorageNodes => [.. StorageNodes.Where(n => State(n) == KnownResourceStates.Running)];

    /// <summary>A gateway's API (the first one by default) as its first admin (HTTP Basic), trusting its pinned certificate. Dispose it.</summary>
    public HttpClient CreateGatewayClient(string gateway = DfsCluster.GatewayName)
    {
        var client = new HttpClient(CreateHandler()) { BaseAddress = GatewayUrlOf(gateway), Timeout = TimeSpan.FromMinutes(5) };
        client.DefaultRequestHeaders.Authorization = AdminAuthorization;
        return client;
    }

    /// <summary>A gateway's typed client (the first one by default) as its first admin.</summary>
    public IGatewayApi CreateGateway(string gateway = DfsCluster.GatewayName) => DfsRefit.Gateway(CreateGatewayClient(gateway));

    /// <summary>What a member of the cluster sends: every request signed with the run's cluster secret. No BaseAddress. Dispose it.</summary>
    public HttpClient CreateClusterHttpClient() => new(new ClusterSigningHandler(Cluster.ClusterSecret) { InnerHandler = CreateHandler() });

    public SocketsHttpHandler CreateHandler() =>
        new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(5) }
            .TrustPinned(Cluster.GatewayCertificateThumbprint);

    /// <summary>A resource's endpoint as 127.0.0.1:port (http endpoint of a service, tcp of a server).</summary>
    public Uri Endpoint(string resource, string endpointName = "http")
    {
        var endpoint = ((IResourceWithEndpoints)Resource(resource)).GetEndpoint(endpointName);
        return new Uri($"{endpoint.Scheme}://127.0.0.1:{endpoint.Port}");
    }

    public Task<string?> GetConnectionStringAsync(string name, CancellationToken ct = default) => App.GetConnectionStringAsync(name, ct).AsTask();

    /// <summary>Where a storage node keeps a chunk: STATE/NODE/chunks/ab/cd/ID.</summary>
    public string ChunkFilePath(string node, string chunkId) =>
        Path.Combine(Cluster.StorageNodeDataDirectory(node), "chunks", chunkId[..2], chunkId[2..4], chunkId);

    /// <summary>The resource's current snapshot.</summary>
    public CustomResourceSnapshot Snapshot(string name) =>
        App.ResourceNotifications.TryGetCurrentState(name, out var e) ? e.Snapshot : throw new InvalidOperationException($"No resource named {name}.");

    public string? State(string name) => Snapshot(name).State?.Text;

    /// <summary>The process that does the work: a server's own, or for a project the service under DCP's `dotnet run`.</summary>
    public int? ProcessId(string name)
    {
        var pid = Snapshot(name).Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value switch
        {
            int value => value,
            long value => (int)value,
            string text when int.TryParse(text, out var value) => value,
            _ => (int?)null,
        };
        if (pid is not { } wrapper || Resource(name) is not ProjectResource project || !project.TryGetLastAnnotation<IProjectMetadata>(out var metadata)) return pid;
        return ProcessTable.ChildRunning(wrapper, Path.GetFileNameWithoutExtension(metadata.ProjectPath)) ?? wrapper;
    }

    /// <summary>The resource's Stop command (what the dashboard's button runs); returns once it has stopped.</summary>
    public async Task StopResourceAsync(string name, CancellationToken ct = default)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(name, KnownResourceCommands.StopCommand, ct);
        if (!result.Success) throw new InvalidOperationException($"Stopping {name} failed: {result.Message}");
        await App.ResourceNotifications.WaitForResourceAsync(name, KnownResourceStates.TerminalStates, ct);
    }

    /// <summary>The resource's Start command; returns once it is healthy.</summary>
    public async Task StartResourceAsync(string name, CancellationToken ct = default)
    {
        var result = await App.ResourceCommands.ExecuteCommandAsync(name, KnownResourceCommands.StartCommand, ct);
        if (!result.Success) throw new InvalidOperationException($"Starting {name} failed: {result.Message}");
        // The command can return while the snapshot still shows the last instance's end (Exited after a kill), which the
        // health wait would take for this start failing: wait for the new instance to show first.
        // A start that fails at once never shows: after a while the health wait gives the verdict, with the output.
        using (var shown = CancellationTokenSource.CreateLinkedTokenSource(ct))
        {
            shown.CancelAfter(TimeSpan.FromSeconds(30));
            try
            {
                await App.ResourceNotifications.WaitForResourceAsync(name,
                    e => e.Snapshot.State?.Text is { } state && !KnownResourceStates.TerminalStates.Contains(state), shown.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
            }
        }
        await WaitHealthyAsync(name, ct);
    }

    /// <summary>Stop then Start: the resource runs again with its environment evaluated anew; returns once it is healthy.</summary>
    public async Task RestartResourceAsync(string name, CancellationToken ct = default)
    {
        await StopResourceAsync(name, ct);
        await StartResourceAsync(name, ct);
    }

    /// <summary>SIGKILL of the resource's process and everything under it (a crash); returns once DCP has seen it end.</summary>
    public async Task KillResourceAsync(string name, CancellationToken ct = default)
    {
        var pid = ProcessId(name) ?? throw new InvalidOperationException($"{name} has no process to kill (state {State(name)}).");
        // The whole tree, listed before the first signal: a server started through a launcher (runuser) would outlive
        // its launcher's death, adopted by init, and keep its port and data folder from the one started after it.
        foreach (var process in Procs.WithDescendants(pid)) ProcessTable.Signal(process, ProcessTable.SigKill);
        await App.ResourceNotifications.WaitForResourceAsync(name, KnownResourceStates.TerminalStates, ct);
    }

    /// <summary>Runs one of the resource's commands (a Dfs command such as "Drain and remove").</summary>
    public Task<ExecuteCommandResult> ExecuteCommandAsync(string resource, string command, CancellationToken ct = default) =>
        App.ResourceCommands.ExecuteCommandAsync(resource, command, ct);

    public async Task WaitHealthyAsync(string name, CancellationToken ct = default)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
        limit.CancelAfter(StartLimit);
        try
        {
            await App.ResourceNotifications.WaitForResourceHealthyAsync(name, limit.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"{name} is not healthy after {StartLimit.TotalMinutes} min (state {State(name)}). Its last output:\n{Output(name)}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The resource exited while starting: why is in what it printed.
            throw new InvalidOperationException($"{e.Message} Its last output:\n{Output(name)}", e);
        }
    }

    /// <summary>The resource's last lines of console output (for failure messages).</summary>
    public string Output(string name) => _logs.TryGetValue(name, out var tail) ? tail.Text : "(none)";

    public async ValueTask DisposeAsync()
    {
        await _stopLogs.CancelAsync();
        try
        {
            await App.StopAsync();
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException)
        {
        }
        await App.DisposeAsync();
        _stopLogs.Dispose();
        if (_temporary)
        {
            try { Directory.Delete(StateDirectory, recursive: true); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
    }

    private async Task WaitUntilStartedAsync(CancellationToken ct)
    {
        var started = Model.Resources
            .Where(r => r is ExecutableResource or ProjectResource && !r.TryGetLastAnnotation<ExplicitStartupAnnotation>(out _))
            .Select(r => r.Name)
            .ToList();
        await Task.WhenAll(started.Select(name => WaitHealthyAsync(name, ct)));
    }

    private IResource Resource(string name) =>
        Model.Resources.FirstOrDefault(r => r.Name == name) ?? throw new InvalidOperationException($"No resource named {name}.");

    private ProjectResource Project(string name) => (ProjectResource)Resource(name);

    /// <summary>
    /// Keeps the last lines each resource printed, so that a failure can say what the resource said. Logs are kept per
    /// instance (DCP's name, "node-2-abcdefgh"), which exists once the resource is created: each is watched from its first
    /// notification on, under the resource's own name.
    /// </summary>
    private void CollectLogs()
    {
        var logs = App.Services.GetRequiredService<ResourceLoggerService>();
        var watched = new HashSet<string>(StringComparer.Ordinal);
        _ = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in App.ResourceNotifications.WatchAsync(_stopLogs.Token))
                {
                    if (e.Resource is not (ExecutableResource or ProjectResource) || !watched.Add(e.ResourceId)) continue;
                    var tail = _logs.GetOrAdd(e.Resource.Name, _ => new LogTail());
                    var instance = e.ResourceId;
                    _ = Task.Run(async () =>
                    {
                        try
                        {
                            await foreach (var batch in logs.WatchAsync(instance).WithCancellation(_stopLogs.Token))
                                foreach (var line in batch) tail.Add(line.Content);
                        }
                        catch (OperationCanceledException)
                        {
                        }
                    });
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    private sealed class LogTail
    {
        private const int Lines = 200;
        private readonly Queue<string> _lines = new();

        public void Add(string line)
        {
            lock (_lines)
            {
                _lines.Enqueue(line);
                if (_lines.Count > Lines) _lines.Dequeue();
            }
        }

        public string Text
        {
            get { lock (_lines) return string.Join('\n', _lines); }
        }
    }
}
