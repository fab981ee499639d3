using System.Globalization;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Processes;

namespace Dfs.AppHost.Resources;

/// <summary>
/// A Dfs service run as `dotnet SERVICE.dll` from its build output, listening on a loopback port that
/// it keeps across restarts (remembered in its data folder for the next run). Healthy when GET /health is 200.
/// </summary>
public sealed class ProjectResource : ProcessResource
{
    private int _port;

    /// <param name="serviceProject">The name in the AppHost's <see cref="Model.ServiceProjectAttribute"/> list.</param>
    /// <param name="fixedPort">0 = the remembered port when free, else a free one.</param>
    public ProjectResource(string name, string kind, string serviceProject, int fixedPort = 0)
        : base(name, kind)
    {
        ServiceProject = serviceProject;
        FixedPort = fixedPort;
    }

    public string ServiceProject { get; }

    public int FixedPort { get; }

    public string HealthPath { get; init; } = "/health";

    /// <summary>"https" when the service serves TLS on its port (the gateway with a certificate), else "http".</summary>
    public string Scheme { get; init; } = Uri.UriSchemeHttp;

    public override Uri? Url => _port == 0 ? null : new Uri($"{Scheme}://127.0.0.1:{_port.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>The dll this resource runs (exists or not).</summary>
    public string DllPath => ServiceProjects.ResolveDll(ServiceProject, Context.Options.ServiceConfiguration);

    private protected override Task PrepareAsync(CancellationToken ct)
    {
        var dll = DllPath;
        if (!File.Exists(dll))
            throw new FileNotFoundException(
                $"{ServiceProject} is not built: {dll} does not exist. Build it first (dotnet build) or choose the configuration with ServiceConfiguration.", dll);
        // Once chosen the port stays for this run: others were given the url.
        if (_port == 0)
            _port = FixedPort != 0 ? FixedPort : Ports.RememberedOrFree(Path.Combine(DataDirectory, "port"));
        return Task.CompletedTask;
    }

    private protected override void AddDefaultEnvironment(IDictionary<string, string?> environment)
    {
        environment["ASPNETCORE_URLS"] = Url!.ToString().TrimEnd('/');
        environment["ASPNETCORE_ENVIRONMENT"] = ServiceProjects.ChildEnvironmentName();
        environment["DOTNET_ENVIRONMENT"] = null;
        environment["OTEL_SERVICE_NAME"] = Kind;
        environment["OTEL_RESOURCE_ATTRIBUTES"] = "service.instance.id=" + Name;
        environment["DFS_PARENT_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        foreach (var key in (string[])["OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_PROTOCOL"])
            if (Environment.GetEnvironmentVariable(key) is { Length: > 0 } value) environment[key] = value;
    }

    private protected override LaunchSpec CreateLaunchSpec(IReadOnlyDictionary<string, string?> environment)
    {
        var dll = DllPath;
        // The content root is the working directory: run where the service's appsettings.json is.
        return new LaunchSpec(ServiceProjects.DotnetHost(), [dll], environment, Path.GetDirectoryName(dll));
    }

    private protected override async Task<bool> CheckHealthAsync(CancellationToken ct)
    {
        if (Url is not { } url) return false;
        using var response = await Context.ProbeClient.GetAsync(new Uri(url, HealthPath), HttpCompletionOption.ResponseHeadersRead, ct);
        return response.StatusCode == System.Net.HttpStatusCode.OK;
    }
}
