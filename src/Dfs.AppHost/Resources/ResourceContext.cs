using Dfs.AppHost.Model;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Resources;

/// <summary>What a resource gets from the application it belongs to.</summary>
internal sealed class ResourceContext(DfsAppHostOptions options, string stateDirectory, ILoggerFactory loggerFactory, HttpClient probeClient)
{
    public DfsAppHostOptions Options { get; } = options;
    public string StateDirectory { get; } = stateDirectory;
    public ILoggerFactory LoggerFactory { get; } = loggerFactory;

    /// <summary>Shared by every HTTP health probe; no retries, short timeouts.</summary>
    public HttpClient ProbeClient { get; } = probeClient;

    public string LogFile(string resourceName) => Path.Combine(StateDirectory, "logs", resourceName + ".log");
}
