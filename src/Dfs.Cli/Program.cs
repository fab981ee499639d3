using Dfs.Cli;

var env = CliEnvironment.FromProcess();
using var cancellation = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The interactive shell claims Ctrl+C to cancel just the running command.
    if (env.Interrupts.TryInterrupt())
    {
        e.Cancel = true;
        return;
    }
    // Otherwise the first Ctrl+C cancels cleanly (temp files removed) and a second one kills the process.
    e.Cancel = !cancellation.IsCancellationRequested;
    cancellation.Cancel();
};

return await CliApp.RunAsync(args, env, cancellation.Token);
