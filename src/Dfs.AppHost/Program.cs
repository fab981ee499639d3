using Dfs.AppHost.Hosting;

namespace Dfs.AppHost;

// A named class rather than top-level statements: tests reference both this library and services
// whose top-level Program would otherwise clash.
public static class Program
{
    public static Task<int> Main(string[] args) => DfsHost.RunAsync(args);
}
