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
    public async Task The_gateway_admin_password_is_generated_once_per_state_folder_and_kept_private()
    {
        var stateDir = Path.Combine(Path.GetTempPath(), "dfs-admin-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            string password;
            await using (var app = DfsTestingBuilder.Create(o => { o.Profile = Profiles.Embedded; o.Nodes = 1; o.StateDir = stateDir; }).Build())
            {
                password = app.GatewayAdminPassword!;
                Assert.Equal(24, password.Length);
                var file = Path.Combine(stateDir, "gateway", "admin-password");
                Assert.Equal(password, (await File.ReadAllTextAsync(file, TestContext.Current.CancellationToken)).Trim());
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
                Assert.Equal("Basic", app.GatewayAuthorization!.Scheme);
                Assert.Equal("admin:" + password, System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(app.GatewayAuthorization.Parameter!)));
            }
            // The next run over the same state keeps it (the gateway's database keeps the admin too).
            await using (var again = DfsTestingBuilder.Create(o => { o.Profile = Profiles.Embedded; o.Nodes = 1; o.StateDir = stateDir; }).Build())
                Assert.Equal(password, again.GatewayAdminPassword);
        }
        finally
        {
            Directory.Delete(stateDir, recursive: true);
        }
        // Set for the gateway explicitly: that one, and no file.
        await using (var set = DfsTestingBuilder.Create(o =>
                     {
                         o.Profile = Profiles.Embedded;
                         o.Nodes = 1;
                         o.ResourceEnvironment["gateway"] = new() { ["Dfs__Gateway__Auth__AdminUser"] = "root", ["Dfs__Gateway__Auth__AdminPassword"] = "chosen-password" };
                     }).Build())
        {
            Assert.Equal("chosen-password", set.GatewayAdminPassword);
            Assert.Equal("root:chosen-password", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(set.GatewayAuthorization!.Parameter!)));
            Assert.False(File.Exists(Path.Combine(set.StateDirectory, "gateway", "admin-password")));
        }
        // No gateway, no password (and no file).
        await using var empty = DfsTestingBuilder.CreateEmpty().Build();
        Assert.Null(empty.GatewayAdminPassword);
        Assert.Null(empty.GatewayAuthorization);
        Assert.False(File.Exists(Path.Combine(empty.StateDirectory, "gateway", "admin-password")));
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
