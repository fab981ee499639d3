namespace Dfs.Cli;

/// <summary>
/// Routes Ctrl+C to whoever claims it: the shell claims it to cancel only the running command (or to ignore it at
/// the prompt); when nobody does, the process-wide cancellation applies.
/// </summary>
public sealed class Interrupts
{
    private readonly List<Action> _handlers = [];

    /// <summary>Claims Ctrl+C until the returned handle is disposed; the latest claim wins.</summary>
    public IDisposable Claim(Action onInterrupt)
    {
        lock (_handlers) _handlers.Add(onInterrupt);
        return new Release(this, onInterrupt);
    }

    /// <summary>Delivers an interrupt to the latest claim; false when nobody claimed it.</summary>
    public bool TryInterrupt()
    {
        Action? handler;
        lock (_handlers) handler = _handlers.Count > 0 ? _handlers[^1] : null;
        handler?.Invoke();
        return handler is not null;
    }

    private sealed class Release(Interrupts owner, Action handler) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._handlers) owner._handlers.Remove(handler);
        }
    }
}
