using Dfs.AppHost.Processes;

namespace Dfs.AppHost.Resources;

/// <summary>
/// Any command, run in its data folder. Healthy while it runs unless a health check is given.
/// Tools fit here; servers with more to manage derive from <see cref="ProcessResource"/> (see <see cref="RabbitMqResource"/>).
/// </summary>
public sealed class ExecutableResource : ProcessResource
{
    public const string DefaultKind = "executable";

    public ExecutableResource(string name, string fileName, IEnumerable<string> arguments, string kind = DefaultKind)
        : base(name, kind)
    {
        FileName = fileName;
        Arguments = [.. arguments];
    }

    public string FileName { get; }

    public IReadOnlyList<string> Arguments { get; }

    /// <summary>Null: healthy as long as the process runs.</summary>
    public Func<CancellationToken, Task<bool>>? HealthCheck { get; set; }

    public Uri? Endpoint { get; set; }

    public override Uri? Url => Endpoint;

    private protected override LaunchSpec CreateLaunchSpec(IReadOnlyDictionary<string, string?> environment) =>
        new(FileName, Arguments, environment, DataDirectory);

    private protected override Task<bool> CheckHealthAsync(CancellationToken ct) =>
        HealthCheck is { } check ? check(ct) : Task.FromResult(true);
}
