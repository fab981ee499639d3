using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Servers;

/// <summary>
/// A server whose own clean shutdown differs from what DCP does (SIGTERM, then a kill): the AppHost runs it before DCP
/// stops everything, so that no server needs recovery at its next start.
/// </summary>
public interface ICleanlyStoppedServer : IResource
{
    Task StopCleanlyAsync(ILogger log, CancellationToken ct);
}
