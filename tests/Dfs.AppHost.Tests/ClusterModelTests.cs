using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;
using Dfs.AppHost.Testing;
using Dfs.Contracts.Cluster;

namespace Dfs.AppHost.Tests;

/// <summary>The standard model of each profile, before anything runs (the Cluster tests run it).</summary>
public sealed class ClusterModelTests
{
    private static IEnumerable<string> DependencyNames(ProcessResource resource) => resource.Dependencies.Select(d => d.Name).Order(StringComparer.Ordinal);

    [Fact]
    public async Task The_local_profile_runs_rabbitmq_and_the_replicator_as_resources()
    {
        await using var app = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Local;
            o.Nodes = 2;
        }).Build();

        Assert.Equal(["postgres", "rabbitmq", "gateway", "node-1", "node-2", "replicator"], app.Resources.Select(r => r.Name));
        Assert.Equal(
            [ResourceKinds.Postgres, ResourceKinds.RabbitMq, ResourceKinds.Gateway, ResourceKinds.StorageNode, ResourceKinds.StorageNode, ResourceKinds.Replicator],
            app.Resources.Select(r => r.Kind));
        var byName = app.Resources.ToDictionary(r => r.Name);
        var broker = Assert.IsType<RabbitMqResource>(byName["rabbitmq"]);
        Assert.Equal(ResourceNames.MessagingConnection, broker.ConnectionStringName);
        Assert.Equal(["postgres", "rabbitmq"], DependencyNames(byName["gateway"]));
        Assert.Equal(["gateway", "rabbitmq"], DependencyNames(byName["replicator"]));
        Assert.Equal(["gateway"], DependencyNames(byName["node-1"]));
        Assert.Empty(broker.Dependencies);
        // The broker's address is chosen at its first start.
        Assert.Null(app.GetConnectionString(ResourceNames.MessagingConnection));
    }

    [Fact]
    public async Task The_embedded_profile_has_no_broker_and_no_replicator_service()
    {
        var builder = DfsTestingBuilder.Create(o =>
        {
            o.Profile = Profiles.Embedded;
            o.Nodes = 1;
        });

        var e = Assert.Throws<InvalidOperationException>(() => builder.AddReplicator());
        Assert.Contains("AddRabbitMq", e.Message);
        await using var app = builder.Build();

        Assert.Equal(["gateway", "node-1"], app.Resources.Select(r => r.Name));
        Assert.Null(app.GetConnectionString(ResourceNames.MessagingConnection));
        Assert.Empty(app.Resources.Single(r => r.Name == "gateway").Dependencies);
    }
}
