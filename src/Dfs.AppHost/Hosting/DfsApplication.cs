using System.Collections.Concurrent;
using Dfs.AppHost.Dashboard;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;
using Dfs.Contracts.Security;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Hosting;

/// <summary>
/// A running (or runnable) Dfs cluster: starts resources in dependency order gated on health, keeps
/// StateDir/cluster.json current, stops in reverse order, and lets tests stop, kill, restart and add
/// resources. Disposing it stops everything; nothing it started outlives it.
/// </summary>
public sealed class DfsApplication : IAsyncDisposable
{
    private readonly DfsApplicationBuilder _builder;
    private readonly ILogger _logger;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, NodeRemoval> _removals = new(StringComparer.Ordinal);
    private DashboardServer? _dashboard;
    private bool _publishClusterFile;
    private bool _processExitHooked;
    private Task? _stopTask;
    private bool _disposed;

    internal DfsApplication(DfsApplicationBuilder builder)
    {
        _builder = builder;
        _logger = builder.LoggerFactory.CreateLogger("Dfs.AppHost");
        foreach (var resource in builder.Resources) resource.Changed += OnResourceChanged;
        builder.ResourceAdded += resource => resource.Changed += OnResourceChanged;
    }

    public DfsAppHostOptions Options => _builder.Options;

    /// <summary>local or embedded (auto already resolved).</summary>
    public string Profile => _builder.Profile.Profile;

    public string StateDirectory => _builder.StateDirectory;

    public string ClusterFilePath => Path.Combine(StateDirectory, ClusterFile.FileName);

    public IReadOnlyList<ProcessResource> Resources => _builder.Resources;

    public Uri? GatewayUrl => _builder.FindResource(ResourceNames.Gateway)?.Url;

    /// <summary>Where the dashboard listens once <see cref="StartAsync"/> began; null when it is off.</summary>
    public Uri? DashboardUrl => _dashboard?.Url;

    public string? DashboardToken => _dashboard?.Token;

    /// <summary>Opens the dashboard with its token (what the AppHost prints, like Aspire's login link).</summary>
    public Uri? DashboardLoginUrl => _dashboard?.LoginUrl;

    /// <summary>Starts every resource (independent ones in parallel) and returns once all are healthy.</summary>
    public async Task StartAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Directory.CreateDirectory(StateDirectory);
        // A previous run's file would point at a gateway that is gone.
        File.Delete(ClusterFilePath);
        HookProcessExit();
        // First, so the resources can be watched while they start.
        if (Options.Dashboard && _dashboard is null)
        {
            _dashboard = await DashboardServer.StartAsync(this, new DashboardSettings(Options.DashboardPort, Options.DashboardToken), _builder.LoggerFactory, ct);
            _logger.LogInformation("Dashboard: {LoginUrl}", _dashboard.LoginUrl);
        }

        var resources = Resources;
        var tasks = new Dictionary<ProcessResource, Task>();
        foreach (var resource in TopologicalOrder(resources))
        {
            var dependencies = resource.Dependencies.Select(d => tasks[d]).ToArray();
            tasks[resource] = StartAfterAsync(resource, dependencies, ct);
        }

        try
        {
            await Task.WhenAll(tasks.Values);
        }
        catch when (!ct.IsCancellationRequested)
        {
            var failures = tasks.Values.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).ToList();
            var root = failures.OfType<ResourceStartException>().FirstOrDefault(e => !e.IsCausedByDependency)
                ?? failures.FirstOrDefault()
                ?? new ResourceStartException("", "Starting the cluster failed.");
            foreach (var other in failures.Where(f => f != root && f is not ResourceStartException { IsCausedByDependency: true }))
                _logger.LogError("{Message}", other.Message);
            throw root;
        }

        _publishClusterFile = true;
        WriteClusterFile();
        _logger.LogInformation("All {Count} resources are running; {ClusterFile} written", resources.Count, ClusterFilePath);
    }

    /// <summary>Stops every resource, dependents before what they depend on. Safe to call more than once.</summary>
    public Task StopAsync(CancellationToken ct = default)
    {
        lock (_gate) _stopTask ??= StopAllAsync();
        return _stopTask.WaitAsync(ct);
    }

    public async Task WaitForResourceHealthyAsync(string name, CancellationToken ct = default)
    {
        var resource = Get(name);
        var reached = await resource.WaitForAsync(s => s.State is ResourceState.Running or ResourceState.Failed, ct);
        if (reached.State == ResourceState.Failed)
            throw new ResourceStartException(name, ResourceStartException.WithOutput($"{name} failed to start (exit code {reached.ExitCode}).", resource.FailureOutput()));
    }

    /// <summary>Completes when the resource is (or passes through) <paramref name="state"/>.</summary>
    public Task<ResourceSnapshot> WaitForResourceStateAsync(string name, ResourceState state, CancellationToken ct = default) =>
        Get(name).WaitForAsync(s => s.State == state, ct);

    /// <summary>
    /// An HttpClient whose BaseAddress is the resource's url; dispose it. It trusts the gateway's certificate and, for
    /// Dfs's own services, signs its requests with the cluster's secret (as the services do with each other).
    /// </summary>
    /// <remarks>The gateway's client authenticates as its first admin (<see cref="GatewayAuthorization"/>).</remarks>
    public HttpClient CreateHttpClient(string name)
    {
        var client = new HttpClient(Get(name) is ProjectResource ? new ClusterSigningHandler(ClusterSecret, CreateHandler()) : CreateHandler())
        {
            BaseAddress = GetEndpoint(name),
        };
        if (name == ResourceNames.Gateway) client.DefaultRequestHeaders.Authorization = GatewayAuthorization;
        return client;
    }

    /// <summary>The gateway's first admin password (STATE/gateway/admin-password); null without a gateway.</summary>
    public string? GatewayAdminPassword => _builder.GatewayAdminPassword;

    /// <summary>Basic credentials of the gateway's first admin, for clients of the gateway made elsewhere.</summary>
    public System.Net.Http.Headers.AuthenticationHeaderValue? GatewayAuthorization =>
        GatewayAdminPassword is { } password ? GatewayCredentials.Basic(_builder.GatewayAdminUser, password) : null;

    /// <summary>
    /// An HttpClient without BaseAddress that signs every request with the cluster's secret: what a member of the cluster
    /// sends, to talk to the storage nodes directly (tests, tools). Dispose it.
    /// </summary>
    public HttpClient CreateClusterHttpClient() => new(new ClusterSigningHandler(ClusterSecret, CreateHandler()));

    /// <summary>Dfs__Cluster__Secret of this run's services.</summary>
    public string ClusterSecret => _builder.ClusterSecret;

    /// <summary>SHA-256 thumbprint of the gateway's HTTPS certificate; null when it serves plain HTTP.</summary>
    public string? GatewayCertificateThumbprint => _builder.GatewayCertificateThumbprint;

    /// <summary>A handler for calls to the cluster's resources: pooled, and trusting the gateway's certificate by its thumbprint.</summary>
    public SocketsHttpHandler CreateHandler() =>
        new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(2), ConnectTimeout = TimeSpan.FromSeconds(5) }
            .TrustPinned(GatewayCertificateThumbprint);

    public Uri GetEndpoint(string name) =>
        Get(name).Url ?? throw new InvalidOperationException($"{name} has no url yet: it has not been started.");

    /// <summary>ConnectionStrings__NAME as the services get it ("metadata").</summary>
    public string? GetConnectionString(string name) => _builder.GetConnectionString(name);

    public ResourceSnapshot GetResource(string name) => Get(name).Snapshot();

    /// <summary>Graceful stop; the resource is not restarted until <see cref="StartResourceAsync"/>.</summary>
    public Task StopResourceAsync(string name, CancellationToken ct = default) => Get(name).StopAsync().WaitAsync(ct);

    /// <summary>SIGKILL of the resource's process tree (fault injection); not restarted. Ends in Exited.</summary>
    public Task KillResourceAsync(string name, CancellationToken ct = default) => Get(name).KillAsync().WaitAsync(ct);

    /// <summary>Starts a stopped, killed or failed resource and waits until it is healthy.</summary>
    public Task StartResourceAsync(string name, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return Get(name).StartAsync(ct);
    }

    /// <summary>Graceful stop, then start; waits until the resource is healthy again.</summary>
    public async Task RestartResourceAsync(string name, CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var resource = Get(name);
        await resource.StopAsync().WaitAsync(ct);
        await resource.StartAsync(ct);
    }

    /// <summary>
    /// Starts taking a storage node out of the running cluster: drain (its chunks get their copies on other
    /// nodes), stop, and forget it. Returns at once; follow <see cref="NodeRemoval.Phase"/> or await
    /// <see cref="NodeRemoval.Completion"/>. Asking again while one runs returns the same removal.
    /// </summary>
    public NodeRemoval RemoveStorageNode(string name)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var resource = Get(name);
        if (resource.Kind != ResourceKinds.StorageNode)
            throw new InvalidOperationException($"{name} is a {resource.Kind}, not a storage node; only storage nodes can be removed.");
        if (_builder.FindResource(ResourceNames.Gateway) is null)
            throw new InvalidOperationException("There is no gateway to drain the node through.");
        lock (_gate)
        {
            if (_removals.TryGetValue(name, out var running) && running.Phase is NodeRemoval.Draining or NodeRemoval.Stopping) return running;
            var removal = new NodeRemoval(name);
            _removals[name] = removal;
            removal.Start(async ct =>
            {
                using var http = CreateHttpClient(ResourceNames.Gateway);
                await removal.RunAsync(new GatewayClient(http), () => resource.StopAsync(), () => resource.StartAsync(CancellationToken.None), () => Forget(resource),
                    Options.DrainTimeout, _logger, ct);
            }, CancellationToken.None);
            return removal;
        }
    }

    /// <summary>The removal of that node started last, if any (kept after it ended, to report how it ended).</summary>
    public NodeRemoval? GetNodeRemoval(string name) => _removals.GetValueOrDefault(name);

    /// <summary>Drains, stops and forgets a storage node; completes when it is gone.</summary>
    public Task RemoveStorageNodeAsync(string name, CancellationToken ct = default) => RemoveStorageNode(name).Completion.WaitAsync(ct);

    private void Forget(ProcessResource resource)
    {
        if (!_builder.RemoveResource(resource)) return;
        resource.Changed -= OnResourceChanged;
        resource.DisposeOutput();
        WriteClusterFile();
    }

    /// <summary>Adds node-(N+1) to the running cluster, starts it and waits until it is healthy; returns its name.</summary>
    public async Task<string> AddStorageNodeAsync(CancellationToken ct = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var node = _builder.AddStorageNode();
        await node.StartAsync(ct);
        WriteClusterFile();
        return node.Name;
    }

    /// <summary>SIGKILL of everything at once, without waiting (a second Ctrl+C, process exit).</summary>
    internal void KillAll()
    {
        foreach (var resource in Resources) resource.KillNow();
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed) return;
        try
        {
            await StopAsync();
        }
        finally
        {
            _disposed = true;
            if (_processExitHooked) AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
            foreach (var resource in Resources) resource.DisposeOutput();
            _builder.Context.ProbeClient.Dispose();
            if (_builder.DeleteStateDirectoryOnDispose) DeleteStateDirectory();
        }
    }

    private ProcessResource Get(string name) =>
        _builder.FindResource(name)
        ?? throw new ArgumentException($"No resource named '{name}' (known: {string.Join(", ", Resources.Select(r => r.Name))}).", nameof(name));

    private static async Task StartAfterAsync(ProcessResource resource, Task[] dependencies, CancellationToken ct)
    {
        try
        {
            await Task.WhenAll(dependencies);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            throw new ResourceStartException(resource.Name, $"{resource.Name} was not started because a resource it waits for failed.") { IsCausedByDependency = true };
        }
        await resource.StartAsync(ct);
    }

    private async Task StopAllAsync()
    {
        _publishClusterFile = false;
        var resources = Resources;
        var order = TopologicalOrder(resources);
        var tasks = new Dictionary<ProcessResource, Task>();
        // Reverse order: a resource stops once everything that depends on it has stopped.
        for (var i = order.Count - 1; i >= 0; i--)
        {
            var resource = order[i];
            var dependents = resources.Where(r => r.Dependencies.Contains(resource)).Select(r => tasks[r]).ToArray();
            tasks[resource] = StopAfterAsync(resource, dependents);
        }
        await Task.WhenAll(tasks.Values);
        if (_dashboard is { } dashboard)
        {
            _dashboard = null;
            await dashboard.DisposeAsync();
        }
        try { File.Delete(ClusterFilePath); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    private async Task StopAfterAsync(ProcessResource resource, Task[] dependents)
    {
        try { await Task.WhenAll(dependents); }
        catch (Exception e) { _logger.LogWarning(e, "Stopping a dependent of {Resource} failed", resource.Name); }
        try { await resource.StopAsync(); }
        catch (Exception e)
        {
            _logger.LogError(e, "Stopping {Resource} failed; killing it", resource.Name);
            resource.KillNow();
        }
    }

    private static List<ProcessResource> TopologicalOrder(IReadOnlyList<ProcessResource> resources)
    {
        var order = new List<ProcessResource>(resources.Count);
        var visiting = new HashSet<ProcessResource>();
        var done = new HashSet<ProcessResource>();
        foreach (var resource in resources) Visit(resource);
        return order;

        void Visit(ProcessResource resource)
        {
            if (done.Contains(resource)) return;
            if (!visiting.Add(resource)) throw new InvalidOperationException($"Resources wait for each other in a cycle through '{resource.Name}'.");
            foreach (var dependency in resource.Dependencies)
            {
                if (!resources.Contains(dependency))
                    throw new InvalidOperationException($"'{resource.Name}' waits for '{dependency.Name}', which is not part of this application.");
                Visit(dependency);
            }
            visiting.Remove(resource);
            done.Add(resource);
            order.Add(resource);
        }
    }

    private void OnResourceChanged(ProcessResource resource)
    {
        if (_publishClusterFile) WriteClusterFile();
    }

    private void WriteClusterFile()
    {
        lock (_gate)
        {
            if (!_publishClusterFile) return;
            var file = new ClusterFile(
                Profile,
                GatewayUrl is { } gateway ? gateway.ToString().TrimEnd('/') : "",
                DashboardUrl?.ToString().TrimEnd('/'),
                [.. Resources.Select(r => new ClusterResource(r.Name, r.Kind, r.Pid, r.Url?.ToString().TrimEnd('/'), r.State.ToContractString()))],
                DashboardToken);
            try { file.Write(StateDirectory); }
            catch (IOException e) { _logger.LogWarning("Could not write {File}: {Message}", ClusterFilePath, e.Message); }
            catch (UnauthorizedAccessException e) { _logger.LogWarning("Could not write {File}: {Message}", ClusterFilePath, e.Message); }
        }
    }

    private void HookProcessExit()
    {
        lock (_gate)
        {
            if (_processExitHooked) return;
            AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
            _processExitHooked = true;
        }
    }

    /// <summary>The AppHost (or a test host) is exiting without having stopped us: take every child along.</summary>
    private void OnProcessExit(object? sender, EventArgs e) => KillAll();

    private void DeleteStateDirectory()
    {
        foreach (var folder in Resources.SelectMany(r => r.ExternalPaths))
        {
            DeleteFolder(folder);
            // The shared parent (…/dfs) goes too once no other cluster lives there.
            try { Directory.Delete(Path.GetDirectoryName(folder)!); }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        DeleteFolder(StateDirectory);
    }

    private void DeleteFolder(string folder)
    {
        for (var attempt = 0; attempt < 5; attempt++)
        {
            try
            {
                if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
                return;
            }
            catch (IOException) { Thread.Sleep(200); }
            catch (UnauthorizedAccessException) { Thread.Sleep(200); }
        }
        _logger.LogWarning("Could not delete {Folder}", folder);
    }
}
