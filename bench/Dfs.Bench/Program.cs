using System.CommandLine;
using Dfs.Bench;

// Ctrl+C and SIGTERM cancel the token; the runner then stops nginx and the cluster before exiting.
var parse = BenchCommandLine.Create(BenchRunner.RunAsync).Parse(args);
return await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) });
