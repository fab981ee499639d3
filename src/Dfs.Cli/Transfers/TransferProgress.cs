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

/// <summary>Shows Spectre.Console progress bars with transfer speed when stdout is a terminal and the output is for humans.</summary>
internal static class TransferProgress
{
    public static async Task<T> RunAsync<T>(CliEnvironment env, bool quiet, Func<ITransferDisplay, Task<T>> work)
    {
        if (quiet || !env.IsOutputInteractive) return await work(Silent.Instance);

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

    private sealed class Silent : ITransferDisplay, ITransferTask
    {
        public static readonly Silent Instance = new();
        public ITransferTask Begin(string description, long? totalBytes) => this;
        public void Advance(long bytes) { }
        public void Restart() { }
        public void Complete() { }
    }
}
