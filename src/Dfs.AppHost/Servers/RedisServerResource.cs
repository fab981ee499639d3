namespace Dfs.AppHost.Servers;

/// <summary>Redis from the machine's redis-server as an executable resource: loopback only, its append-only file in the state folder.</summary>
public sealed class RedisServerResource(string name, string program, string dataDirectory)
    : ExecutableResource(name, program, dataDirectory), IResourceWithConnectionString
{
    public const string EndpointName = "tcp";
    public const string DefaultProgram = "/usr/bin/redis-server";

    private EndpointReference? _endpoint;

    public string DataDirectory { get; } = dataDirectory;

    public EndpointReference PrimaryEndpoint => _endpoint ??= new(this, EndpointName);

    public ReferenceExpression ConnectionStringExpression => ReferenceExpression.Create(
        $"{PrimaryEndpoint.Property(EndpointProperty.IPV4Host)}:{PrimaryEndpoint.Property(EndpointProperty.Port)}");

    /// <summary>The machine's redis-server, else one on PATH; null when Redis is not installed.</summary>
    public static string? FindServer()
    {
        if (File.Exists(DefaultProgram)) return DefaultProgram;
        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(f => Path.Combine(f, "redis-server")).FirstOrDefault(File.Exists);
    }
}
