using System.Text.RegularExpressions;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dfs.AppHost.Resources;

/// <summary>
/// A named resource that runs as a child process: its own data folder (StateDir/NAME), environment,
/// dependencies it waits for, a health probe, and a supervisor that restarts it with backoff when it
/// ends without being asked to. Subclasses say what to run and how to probe it.
/// </summary>
public abstract partial class ProcessResource
{
    private static readonly TimeSpan StartupPollInterval = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan MaxBackoff = TimeSpan.FromSeconds(30);
    /// <summary>A process that was healthy this long before it ended starts the backoff afresh.</summary>
    private static readonly TimeSpan StableRun = TimeSpan.FromSeconds(30);

    private readonly object _gate = new();
    private readonly SemaphoreSlim _lifecycle = new(1, 1);
    private readonly List<ProcessResource> _dependencies = [];
    private readonly List<KeyValuePair<string, Func<string?>>> _environment = [];
    private readonly List<(Func<ResourceSnapshot, bool> Predicate, TaskCompletionSource<ResourceSnapshot> Done)> _waiters = [];
    private ResourceContext? _context;
    private OutputLog? _output;
    private ChildProcess? _current;
    private CancellationTokenSource? _runCts;
    private Task? _supervisor;
    private bool _stopRequested;
    private bool _awaitingFirstHealthy;
    private ResourceHealth _health;

    protected ProcessResource(string name, string kind)
    {
        if (!NamePattern().IsMatch(name))
            throw new ArgumentException($"Resource name '{name}' must be lowercase letters, digits and '-'.", nameof(name));
        Name = name;
        Kind = kind;
    }

    public string Name { get; }

    /// <summary>One of <see cref="Dfs.Contracts.Cluster.ResourceKinds"/> for Dfs's own resources.</summary>
    public string Kind { get; }

    public string DataDirectory => Path.Combine(Context.StateDirectory, Name);

    public IReadOnlyList<ProcessResource> Dependencies => _dependencies;

    public ResourceState State { get; private set; } = ResourceState.NotStarted;

    public int? Pid { get; private set; }

    /// <summary>Where the resource listens; null until its port is chosen (at its first start).</summary>
    public virtual Uri? Url => null;

    /// <summary>Folders outside StateDir that belong to this resource (deleted with a temporary StateDir).</summary>
    internal virtual IEnumerable<string> ExternalPaths => [];

    public DateTimeOffset? StartedAt { get; private set; }

    public int RestartCount { get; private set; }

    public int? ExitCode { get; private set; }

    /// <summary>Raised after the state, pid or url changed.</summary>
    internal event Action<ProcessResource>? Changed;

    internal ResourceContext Context => _context ?? throw new InvalidOperationException($"Resource '{Name}' is not part of an application yet.");

    private protected OutputLog Output => _output ?? throw new InvalidOperationException($"Resource '{Name}' is not part of an application yet.");

    private protected ILogger Logger { get; private set; } = NullLogger.Instance;

    public IReadOnlyList<string> RecentOutput(int lines = 50) => _output?.Tail(lines) ?? [];

    /// <summary>Up to <paramref name="max"/> output lines after sequence <paramref name="after"/> (see <see cref="OutputLog.Read"/>).</summary>
    public OutputPage ReadOutput(long after, int max) => _output?.Read(after, max) ?? new OutputPage([], 0);

    /// <summary>
    /// The last 20 lines; when they are the middle of a stack trace, preceded by the line that heads it
    /// (a .NET crash ends in a long trace, and its first line is the one that explains it).
    /// </summary>
    public IReadOnlyList<string> FailureOutput()
    {
        const int tail = 20;
        var recent = RecentOutput(300);
        var first = Math.Max(0, recent.Count - tail);
        var last = recent.Skip(first).ToList();
        if (first == 0 || !IsStackTraceLine(recent[first])) return last;
        var header = first - 1;
        while (header > 0 && IsStackTraceLine(recent[header])) header--;
        if (header < first - 1) last.InsertRange(0, [recent[header], "  ..."]);
        else last.Insert(0, recent[header]);
        return last;

        static bool IsStackTraceLine(string line) => line.Length > 0 && (char.IsWhiteSpace(line[0]) || line.StartsWith("---", StringComparison.Ordinal));
    }

    public ResourceSnapshot Snapshot()
    {
        lock (_gate) return SnapshotLocked();
    }

    internal void Attach(ResourceContext context)
    {
        if (_context is not null) throw new InvalidOperationException($"Resource '{Name}' already belongs to an application.");
        _context = context;
        _output = new OutputLog(context.LogFile(Name));
        Logger = context.LoggerFactory.CreateLogger("Dfs.AppHost." + Name);
    }

    internal void AddDependency(ProcessResource dependency)
    {
        if (dependency.DependsOn(this))
            throw new InvalidOperationException($"'{Name}' cannot wait for '{dependency.Name}': that would make a cycle.");
        if (!_dependencies.Contains(dependency)) _dependencies.Add(dependency);
    }

    private bool DependsOn(ProcessResource other) => this == other || _dependencies.Any(d => d.DependsOn(other));

    internal void AddEnvironment(string name, Func<string?> value) => _environment.Add(new(name, value));

    // ---- what subclasses provide ------------------------------------------------------------

    /// <summary>Runs before every launch (first start and restarts): choose ports, create folders, initdb…</summary>
    private protected virtual Task PrepareAsync(CancellationToken ct) => Task.CompletedTask;

    /// <summary>Variables every launch gets; the resource's own WithEnvironment values and the option overrides follow.</summary>
    private protected virtual void AddDefaultEnvironment(IDictionary<string, string?> environment)
    {
    }

    private protected abstract LaunchSpec CreateLaunchSpec(IReadOnlyDictionary<string, string?> environment);

    private protected abstract Task<bool> CheckHealthAsync(CancellationToken ct);

    /// <summary>The polite stop; SIGKILL of the whole tree follows after the grace period.</summary>
    private protected virtual void RequestStop(ChildProcess process) => process.Signal(Native.SIGTERM);

    /// <summary>After every stop or kill (not after a crash, which the next launch's PrepareAsync sees).</summary>
    private protected virtual Task OnStoppedAsync() => Task.CompletedTask;

    /// <summary>Between the polite stop and SIGKILL; a server that must flush its stores may ask for more.</summary>
    private protected virtual TimeSpan StopGracePeriod => Context.Options.StopGracePeriod;

    /// <summary>
    /// After <see cref="KillNow"/> killed the process group: processes that left the group (daemons) go too.
    /// Synchronous and quick: the AppHost is exiting.
    /// </summary>
    private protected virtual void OnKilledNow()
    {
    }

    // ---- waiting --------------------------------------------------------------------------------

    /// <summary>Completes as soon as a snapshot matches, including a transient state between two checks.</summary>
    public Task<ResourceSnapshot> WaitForAsync(Func<ResourceSnapshot, bool> predicate, CancellationToken ct)
    {
        var done = new TaskCompletionSource<ResourceSnapshot>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var now = SnapshotLocked();
            if (predicate(now)) return Task.FromResult(now);
            _waiters.Add((predicate, done));
        }
        if (ct.CanBeCanceled)
        {
            var registration = ct.Register(() =>
            {
                lock (_gate) _waiters.RemoveAll(w => w.Done == done);
                done.TrySetCanceled(ct);
            });
            done.Task.ContinueWith(_ => registration.Dispose(), TaskScheduler.Default);
        }
        return done.Task;
    }

    // ---- lifecycle ------------------------------------------------------------------------------

    /// <summary>Waits for the dependencies, launches the process and waits until it is healthy.</summary>
    internal async Task StartAsync(CancellationToken ct)
    {
        await WaitForDependenciesAsync(ct);

        await _lifecycle.WaitAsync(ct);
        try
        {
            if (_supervisor is null || _supervisor.IsCompleted)
            {
                lock (_gate)
                {
                    _stopRequested = false;
                    _awaitingFirstHealthy = true;
                }
                var runCts = new CancellationTokenSource();
                _runCts = runCts;
                SetState(ResourceState.Starting);
                ChildProcess process;
                try
                {
                    process = await LaunchAsync(runCts.Token);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Output.Append($"[apphost] {Name} could not be started: {ex.Message}");
                    SetState(ResourceState.Failed);
                    throw new ResourceStartException(Name, ResourceStartException.WithOutput($"{Name} could not be started: {ex.Message}", FailureOutput()), ex);
                }
                _supervisor = Task.Run(() => SuperviseAsync(process, runCts.Token), CancellationToken.None);
            }
        }
        finally
        {
            _lifecycle.Release();
        }

        var timeout = Context.Options.StartTimeout;
        using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeoutCts.CancelAfter(timeout);
        ResourceSnapshot reached;
        try
        {
            reached = await WaitForAsync(s => s.State is ResourceState.Running or ResourceState.Failed or ResourceState.Stopping or ResourceState.Stopped, timeoutCts.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            var stayed = State;
            var lines = FailureOutput();
            Output.Append($"[apphost] {Name} did not become healthy within {timeout.TotalSeconds:0.#} s; killing it");
            await StopCoreAsync(kill: true, finalState: ResourceState.Failed);
            throw new ResourceStartException(Name, ResourceStartException.WithOutput(
                $"{Name} did not become healthy within {timeout.TotalSeconds:0.#} s (it stayed {stayed}).", lines));
        }

        switch (reached.State)
        {
            case ResourceState.Running:
                return;
            case ResourceState.Failed:
                throw new ResourceStartException(Name, ResourceStartException.WithOutput(
                    $"{Name} exited with code {reached.ExitCode} before it became healthy.", FailureOutput()));
            default:
                throw new ResourceStartException(Name, $"{Name} was stopped while it was starting.");
        }
    }

    /// <summary>Graceful stop (signal, grace period, then SIGKILL of the tree); not restarted.</summary>
    internal Task StopAsync() => StopCoreAsync(kill: false, finalState: null);

    /// <summary>SIGKILL of the whole tree at once, as a crash would; not restarted. Ends in <see cref="ResourceState.Exited"/>.</summary>
    internal Task KillAsync() => StopCoreAsync(kill: true, finalState: null);

    /// <summary>Last resort when the AppHost itself is going away: no waiting, no state changes.</summary>
    internal void KillNow()
    {
        ChildProcess? process;
        lock (_gate)
        {
            _stopRequested = true;
            process = _current;
        }
        try { _runCts?.Cancel(); }
        catch (ObjectDisposedException) { }
        process?.KillTree();
        try { OnKilledNow(); }
        catch (Exception ex) { Logger.LogWarning(ex, "Cleaning up after killing {Resource} failed", Name); }
    }

    private async Task StopCoreAsync(bool kill, ResourceState? finalState)
    {
        await _lifecycle.WaitAsync();
        try
        {
            ChildProcess? process;
            Task? supervisor;
            lock (_gate)
            {
                _stopRequested = true;
                process = _current;
                supervisor = _supervisor;
            }
            _runCts?.Cancel();

            var wasAlive = process is { HasExited: false };
            if (process is not null && wasAlive)
            {
                if (kill)
                {
                    Output.Append($"[apphost] killing {Name} (SIGKILL to its process tree)");
                    process.KillTree();
                }
                else
                {
                    SetState(ResourceState.Stopping);
                    try { RequestStop(process); }
                    catch (Exception ex) { Logger.LogWarning(ex, "Could not signal {Resource}", Name); }
                    if (!await process.WaitForExitAsync(StopGracePeriod))
                    {
                        Output.Append($"[apphost] {Name} still running after {StopGracePeriod.TotalSeconds:0.#} s; killing its process tree");
                        process.KillTree();
                    }
                }
                if (!await process.WaitForExitAsync(TimeSpan.FromSeconds(10)))
                    Logger.LogError("{Resource} (pid {Pid}) did not exit even after SIGKILL", Name, process.Pid);
                process.KillLeftovers();
            }

            if (supervisor is not null)
            {
                try { await supervisor; }
                catch (Exception ex) { Logger.LogWarning(ex, "Supervisor of {Resource} ended with an error", Name); }
            }

            lock (_gate)
            {
                Pid = null;
                if (process is { HasExited: true } && wasAlive) ExitCode = process.Exited.Result;
                if (_current == process) _current = null;
            }
            process?.Dispose();
            // Never started, already stopped or failed to start: that stays the truth unless a final state is forced.
            var settled = !wasAlive && State is ResourceState.NotStarted or ResourceState.Stopped or ResourceState.Failed;
            if (finalState is { } forced) SetState(forced);
            else if (!settled) SetState(kill ? ResourceState.Exited : ResourceState.Stopped);
            if (process is not null || State is not ResourceState.NotStarted)
                await OnStoppedAsync();
        }
        finally
        {
            _lifecycle.Release();
        }
    }

    private async Task WaitForDependenciesAsync(CancellationToken ct)
    {
        var timeout = Context.Options.StartTimeout;
        foreach (var dependency in _dependencies)
        {
            using var timeoutCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeoutCts.CancelAfter(timeout);
            ResourceSnapshot reached;
            try
            {
                reached = await dependency.WaitForAsync(s => s.State is ResourceState.Running or ResourceState.Failed, timeoutCts.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw new ResourceStartException(Name, ResourceStartException.WithOutput(
                    $"{Name} waited {timeout.TotalSeconds:0.#} s for {dependency.Name} to become healthy; {dependency.Name} is {dependency.State}.",
                    dependency.FailureOutput()));
            }
            if (reached.State == ResourceState.Failed)
                throw new ResourceStartException(Name, $"{Name} was not started because {dependency.Name}, which it waits for, failed to start.");
        }
    }

    private async Task<ChildProcess> LaunchAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(DataDirectory);
        await PrepareAsync(ct);
        var spec = CreateLaunchSpec(BuildEnvironment());
        ChildProcess child;
        lock (_gate)
        {
            if (_stopRequested || ct.IsCancellationRequested) throw new OperationCanceledException(ct);
            Output.Append($"[apphost] {DateTimeOffset.Now:yyyy-MM-dd HH:mm:ss} starting {Name}: {spec}");
            child = ChildProcess.Start(spec, Output);
            _current?.Dispose();
            _current = child;
            Pid = child.Pid;
            StartedAt = child.StartedAt;
            ExitCode = null;
            // A new process has not been probed yet: the last one's verdict is not its.
            _health = ResourceHealth.Unknown;
        }
        Logger.LogDebug("{Resource} started, pid {Pid}", Name, child.Pid);
        Changed?.Invoke(this);
        return child;
    }

    private Dictionary<string, string?> BuildEnvironment()
    {
        var environment = new Dictionary<string, string?>(StringComparer.Ordinal);
        AddDefaultEnvironment(environment);
        foreach (var (key, value) in _environment) environment[key] = value();
        if (Context.Options.ResourceEnvironment.TryGetValue(Name, out var overrides))
            foreach (var (key, value) in overrides) environment[key] = value;
        return environment;
    }

    private async Task SuperviseAsync(ChildProcess process, CancellationToken token)
    {
        var failures = 0;
        while (true)
        {
            var wasHealthy = await MonitorAsync(process, token);
            if (token.IsCancellationRequested) return; // a deliberate stop owns the state from here
            var code = await process.Exited;
            // Its last words explain the exit; a surviving grandchild may hold the pipes open, so not forever.
            await Task.WhenAny(process.OutputClosed, Task.Delay(500, CancellationToken.None));
            // Orphans of a crashed service would hold its port or files; the group takes them along.
            process.KillLeftovers();
            bool failedToStart;
            lock (_gate)
            {
                if (_stopRequested) return;
                ExitCode = code;
                Pid = null;
                failedToStart = _awaitingFirstHealthy;
                // Its pid may be reused by anyone from now on: never signal it again.
                _current = null;
                process.Dispose();
            }
            Output.Append($"[apphost] {Name} exited with code {code}");
            if (failedToStart)
            {
                Logger.LogError("{Resource} exited with code {Code} before it became healthy", Name, code);
                SetState(ResourceState.Failed);
                return;
            }
            if (wasHealthy && DateTimeOffset.UtcNow - process.StartedAt > StableRun) failures = 0;
            SetState(ResourceState.Exited);

            while (true)
            {
                var delay = Backoff(failures++);
                Logger.LogWarning("{Resource} exited with code {Code}; restarting in {Delay:0.#} s", Name, code, delay.TotalSeconds);
                try { await Task.Delay(delay, token); }
                catch (OperationCanceledException) { return; }
                lock (_gate)
                {
                    if (_stopRequested) return;
                    RestartCount++;
                }
                SetState(ResourceState.Starting);
                try
                {
                    process = await LaunchAsync(token);
                    break;
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Output.Append($"[apphost] restarting {Name} failed: {ex.Message}");
                    Logger.LogError(ex, "Restarting {Resource} failed", Name);
                    SetState(ResourceState.Exited);
                }
            }
        }
    }

    internal static TimeSpan Backoff(int failures) =>
        TimeSpan.FromTicks(Math.Min(MaxBackoff.Ticks, FirstBackoff.Ticks << Math.Min(failures, 10)));

    /// <summary>Probes health until the process exits or the run is cancelled; true when it was healthy at least once.</summary>
    private async Task<bool> MonitorAsync(ChildProcess process, CancellationToken token)
    {
        var healthy = false;
        while (!process.HasExited && !token.IsCancellationRequested)
        {
            var interval = State == ResourceState.Running ? HealthInterval : StartupPollInterval;
            await Task.WhenAny(process.Exited, Task.Delay(interval, token));
            if (process.HasExited || token.IsCancellationRequested) break;

            bool ok;
            using (var probe = CancellationTokenSource.CreateLinkedTokenSource(token))
            {
                probe.CancelAfter(ProbeTimeout);
                try { ok = await CheckHealthAsync(probe.Token); }
                catch (Exception) when (!token.IsCancellationRequested) { ok = false; }
                catch (OperationCanceledException) { break; }
            }
            if (process.HasExited || token.IsCancellationRequested) break;

            RecordHealth(ok ? ResourceHealth.Healthy : ResourceHealth.Unhealthy);
            if (ok)
            {
                healthy = true;
                Promote();
            }
            else
            {
                Demote();
            }
        }
        return healthy;
    }

    /// <summary>Not a <see cref="Changed"/> event: cluster.json does not carry health, and readers poll snapshots.</summary>
    private void RecordHealth(ResourceHealth health)
    {
        lock (_gate) _health = health;
    }

    private void Promote()
    {
        lock (_gate)
        {
            if (_stopRequested || State is not (ResourceState.Starting or ResourceState.Unhealthy)) return;
            _awaitingFirstHealthy = false;
        }
        SetState(ResourceState.Running);
    }

    private void Demote()
    {
        lock (_gate)
        {
            if (_stopRequested || State is not ResourceState.Running) return;
        }
        SetState(ResourceState.Unhealthy);
    }

    private void SetState(ResourceState state)
    {
        List<TaskCompletionSource<ResourceSnapshot>> matched = [];
        ResourceSnapshot snapshot;
        lock (_gate)
        {
            if (State == state) return;
            State = state;
            snapshot = SnapshotLocked();
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Predicate(snapshot)) continue;
                matched.Add(_waiters[i].Done);
                _waiters.RemoveAt(i);
            }
        }
        foreach (var done in matched) done.TrySetResult(snapshot);
        if (state is ResourceState.Running)
            Logger.LogInformation("{Resource} is running{Url}", Name, Url is { } url ? " at " + url : "");
        else
            Logger.LogDebug("{Resource} is {State}", Name, state);
        Changed?.Invoke(this);
    }

    private ResourceSnapshot SnapshotLocked() => new(
        Name, Kind, State, Pid, Url, StartedAt, RestartCount, ExitCode,
        _context is null ? "" : DataDirectory,
        _output?.Tail(50) ?? [],
        // Without a process there is nothing to probe, whatever the last probe said.
        Pid is null ? ResourceHealth.Unknown : _health);

    internal void DisposeOutput() => _output?.Dispose();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    private static partial Regex NamePattern();
}
