using Dfs.Cli.Output;
using Spectre.Console;

namespace Dfs.Cli.Transfers;

/// <summary>One bar of a transfer display: bytes so far out of an optional total.</summary>
internal interface ITransferTask
{
    void Advance(long bytes);

    /// <summary>Back to zero, for a retried attempt.</summary>
    void Restart();

    void Complete();
}

internal interface ITransferDisplay
{
    ITransferTask Begin(string description, long? totalBytes);
}

/// <summary>
/// Shows Spectre.Console progress bars with transfer speed when stdout is a terminal and the output is for humans;
/// without a terminal, plain lines on stderr when asked for (<see cref="CliEnvironment.ProgressLines"/>).
/// </summary>
internal static class TransferProgress
{
    public static async Task<T> RunAsync<T>(CliEnvironment env, bool quiet, Func<ITransferDisplay, Task<T>> work)
    {
        if (quiet) return await work(Silent.Instance);
        if (!env.IsOutputInteractive) return await work(env.ProgressLines ? new LineDisplay(env.Error) : Silent.Instance);

        return await env.Console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn(),
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn())
            .StartAsync(context => work(new SpectreDisplay(context)));
    }

    private sealed class SpectreDisplay(ProgressContext context) : ITransferDisplay
    {
        public ITransferTask Begin(string description, long? totalBytes)
        {
            var task = context.AddTask(Markup.Escape(description), autoStart: true, maxValue: Math.Max(1, totalBytes ?? 1));
            task.IsIndeterminate = totalBytes is null;
            return new SpectreTask(task);
        }
    }

    private sealed class SpectreTask(ProgressTask task) : ITransferTask
    {
        public void Advance(long bytes) => task.Increment(bytes);
        public void Restart() => task.Value = 0;

        public void Complete()
        {
            task.Value = task.MaxValue;
            task.StopTask();
        }
    }

    /// <summary>A line at 25, 50, 75 and 100% (only 100% when the size is not known): enough to follow a transfer in a log without flooding it.</summary>
    private sealed class LineDisplay(TextWriter error) : ITransferDisplay
    {
        public ITransferTask Begin(string description, long? totalBytes) =>
            new LineTask(error, string.Join(' ', description.Split(' ', StringSplitOptions.RemoveEmptyEntries)), totalBytes);
    }

    private sealed class LineTask(TextWriter error, string description, long? total) : ITransferTask
    {
        private const int Step = 25;
        private long _done;
        private int _printed;

        public void Advance(long bytes)
        {
            _done += bytes;
            if (total is not > 0) return;
            var reached = (int)Math.Min(100, _done * 100 / total.Value);
            // Every milestone gets its line, even when one read jumps past several: a log always shows the same four.
            while (_printed + Step <= reached) Print(_printed + Step);
        }

        public void Restart()
        {
            _done = 0;
            _printed = 0;
        }

        public void Complete()
        {
            if (_printed < 100) Print(100);
        }

        private void Print(int percent)
        {
            _printed = percent;
            var of = total is { } t ? $" of {Formatting.Size(t)}" : "";
            error.WriteLine($"{description}: {percent}% ({Formatting.Size(_done)}{of})");
            error.Flush();
        }
    }

    private sealed class Silent : ITransferDisplay, ITransferTask
    {
        public static readonly Silent Instance = new();
        public ITransferTask Begin(string description, long? totalBytes) => this;
        public void Advance(long bytes) { }
        public void Restart() { }
        public void Complete() { }
    }
}
