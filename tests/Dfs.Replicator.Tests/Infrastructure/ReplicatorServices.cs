using Dfs.Replicator.Hosting;
using Dfs.ServiceDefaults;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Dfs.Replicator.Tests.Infrastructure;

/// <summary>The Replicator's services as a host composes them, pointed at a <see cref="FakeGateway"/>.</summary>
public static class ReplicatorServices
{
    /// <summary>Short timeouts and retries, so failing paths finish quickly.</summary>
    public static readonly IReadOnlyDictionary<string, string?> TestSettings = new Dictionary<string, string?>
    {
        ["Dfs:Replicator:CopyTimeoutSeconds"] = "20",
        ["Dfs:Replicator:ReconcileIntervalMs"] = "3600000",
        ["Dfs:Replicator:Retry:ImmediateRetries"] = "1",
        ["Dfs:Replicator:Retry:ExponentialRetries"] = "2",
        ["Dfs:Replicator:Retry:MinBackoffMs"] = "10",
        ["Dfs:Replicator:Retry:MaxBackoffMs"] = "50",
        ["Dfs:Replicator:Retry:DeltaBackoffMs"] = "10",
        ["Dfs:Cluster:Secret"] = ServiceProcess.ClusterSecret,
    };

    public static ServiceProvider Build(FakeGateway gateway, IReadOnlyDictionary<string, string?>? overrides = null) =>
        Create(gateway, overrides).BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });

    /// <summary>With MassTransit's in-memory test harness and the Replicator's consumers on it.</summary>
    public static ServiceProvider BuildWithHarness(FakeGateway gateway, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var services = Create(gateway, overrides);
        // The reconciler's timer is not under test here: events alone must drive the copies.
        services.RemoveAll<IHostedService>();
        services.AddMassTransitTestHarness(x =>
        {
            x.SetKebabCaseEndpointNameFormatter();
            x.AddReplicatorConsumers();
        });
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private static ServiceCollection Create(FakeGateway gateway, IReadOnlyDictionary<string, string?>? overrides)
    {
        var settings = new Dictionary<string, string?>(TestSettings);
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>()) settings[key] = value;
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddSingleton<IGatewayAddress>(new FixedGatewayAddress(gateway.Url));
        // As the Replicator's host does: every HttpClient signs with the cluster's secret.
        services.AddClusterTrust();
        services.AddReplicatorCore(configuration);
        return services;
    }

    private sealed class FixedGatewayAddress(Uri url) : IGatewayAddress
    {
        public Uri Current { get; } = url;
    }
}
