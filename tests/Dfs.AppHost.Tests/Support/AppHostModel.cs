using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Aspire.Hosting.Eventing;
using Aspire.Hosting.Testing;
using Dfs.AppHost.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Dfs.AppHost.Tests.Support;

/// <summary>
/// The AppHost's model for a command line, declared by the real Program through Aspire's testing builder and never built
/// or started (BuildAsync would let Program's Run start it): every endpoint gets a made-up port (what DCP would allocate),
/// so that environment values that name endpoints can be evaluated with Aspire's own <see cref="ExecutionConfigurationBuilder"/>,
/// as DCP's executor evaluates them.
/// </summary>
public sealed class AppHostModel : IAsyncDisposable
{
    private readonly IDistributedApplicationTestingBuilder _builder;
    private readonly ServiceProvider _services;
    private bool _beforeStartPublished;

    private AppHostModel(IDistributedApplicationTestingBuilder builder)
    {
        _builder = builder;
        Model = new DistributedApplicationModel(builder.Resources);
        // The services the model's callbacks may ask for, as the built app would have them; nothing here is started.
        _services = builder.Services.BuildServiceProvider();
        ExecutionContext = new DistributedApplicationExecutionContext(
            new DistributedApplicationExecutionContextOptions(DistributedApplicationOperation.Run) { Services = _services });
    }

    public DistributedApplicationModel Model { get; }

    public DistributedApplicationExecutionContext ExecutionContext { get; }

    public DfsCluster Cluster => _services.GetRequiredService<DfsCluster>();

    /// <param name="dashboard">Whether Aspire's builder declares its dashboard (the AppHost decides from its own switch; the testing builder needs telling).</param>
    public static async Task<AppHostModel> BuildAsync(IEnumerable<string> args, CancellationToken ct, bool dashboard = false)
    {
        var builder = await DistributedApplicationTestingBuilder.CreateAsync<Projects.Dfs_AppHost>([.. args], (o, _) => o.DisableDashboard = !dashboard, ct);
        var model = new AppHostModel(builder);
        var port = 41000;
        foreach (var annotation in model.Model.Resources.SelectMany(r => r.Annotations.OfType<EndpointAnnotation>()))
        {
            var allocated = annotation.Port ?? port++;
            annotation.AllocatedEndpoint = new AllocatedEndpoint(annotation, "localhost", allocated, EndpointBindingMode.SingleAddress,
                targetPortExpression: allocated.ToString(System.Globalization.CultureInfo.InvariantCulture), KnownNetworkIdentifiers.LocalhostNetwork);
        }
        return model;
    }

    public IResource Resource(string name) =>
        Model.Resources.SingleOrDefault(r => r.Name == name) ?? throw new InvalidOperationException($"No resource {name} in the model.");

    /// <summary>The resources Program declares, without Aspire's hidden ones (a "-rebuilder" per project).</summary>
    public IReadOnlyList<string> Names => [.. Model.Resources.Where(r => r.GetType().Name != "ProjectRebuilderResource").Select(r => r.Name)];

    /// <summary>
    /// Names of the servers and services <paramref name="name"/> waits for until healthy (as WaitFor does); the secret
    /// parameters it uses, which Aspire also makes it wait for, are left out.
    /// </summary>
    public IReadOnlyList<string> WaitsOf(string name) =>
        [.. Resource(name).Annotations.OfType<WaitAnnotation>().Where(w => w.WaitType == WaitType.WaitUntilHealthy && !IsSecretParameter(w.Resource))
            .Select(w => w.Resource.Name).Distinct().Order(StringComparer.Ordinal)];

    /// <summary>A parameter that is a value (admin-password, cluster-secret), not a server's connection string (external profile).</summary>
    private static bool IsSecretParameter(IResource resource) => resource is ParameterResource and not IResourceWithConnectionString;

    /// <summary>
    /// Names of the servers and services <paramref name="name"/> references (WithReference), parameters and itself (a node's
    /// advertised URL names its own endpoint) left out.
    /// </summary>
    public IReadOnlyList<string> ReferencesOf(string name) =>
        [.. Resource(name).Annotations.OfType<ResourceRelationshipAnnotation>().Where(r => r.Type == "Reference" && !IsSecretParameter(r.Resource) && r.Resource.Name != name)
            .Select(r => r.Resource.Name).Distinct().Order(StringComparer.Ordinal)];

    public int Port(string resource, string endpoint) =>
        ((IResourceWithEndpoints)Resource(resource)).GetEndpoint(endpoint).Port;

    /// <summary>
    /// BeforeStartEvent, as StartAsync publishes it first: the AppHost adds the per-resource overrides
    /// (ResourceEnvironment) then, so that they come after everything the model set.
    /// </summary>
    public async Task PublishBeforeStartAsync(CancellationToken ct)
    {
        if (_beforeStartPublished) return;
        _beforeStartPublished = true;
        await _builder.Eventing.PublishAsync(new BeforeStartEvent(_services, Model), ct);
    }

    /// <summary>The environment DCP would start the resource with (after BeforeStartEvent).</summary>
    public async Task<IReadOnlyDictionary<string, string>> EnvironmentAsync(string name, CancellationToken ct)
    {
        await PublishBeforeStartAsync(ct);
        var configuration = await ExecutionConfigurationBuilder.Create(Resource(name)).WithEnvironmentVariablesConfig()
            .BuildAsync(ExecutionContext, NullLogger.Instance, ct);
        return configuration.EnvironmentVariables.ToDictionary(StringComparer.Ordinal);
    }

    /// <summary>The arguments DCP would start an executable with.</summary>
    public async Task<IReadOnlyList<string>> ArgumentsAsync(string name, CancellationToken ct)
    {
        var configuration = await ExecutionConfigurationBuilder.Create(Resource(name)).WithArgumentsConfig().BuildAsync(ExecutionContext, NullLogger.Instance, ct);
        return [.. configuration.Arguments.Select(a => a.Value)];
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        await _builder.DisposeAsync();
    }
}
