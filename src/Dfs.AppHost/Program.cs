using Dfs.AppHost.Cluster;
using Dfs.AppHost.Settings;

namespace Dfs.AppHost;

// A named class, not top-level statements: tests reference this assembly beside the gateway's, whose Program is global.
public static class Program
{
    public static int Main(string[] args)
    {
        // Dfs as a diagram: the profile's servers, the gateway, the storage nodes and the Replicator, each waiting for what it uses.
        var commandLine = DfsCommandLine.Parse(args);
        if (commandLine.ShowHelp) return DfsCommandLine.PrintHelp();
        if (commandLine.Errors.Count > 0) return DfsCommandLine.PrintErrors(commandLine.Errors);

        var builder = DistributedApplication.CreateBuilder(DfsCommandLine.AspireOptions(commandLine));
        if (builder.AddDfsSettings() is not { } dfs) return DfsCommandLine.InvalidOptions;

        var metadata = builder.AddMetadata(dfs);            // PostgreSQL, your server, or SQLite (embedded)
        var messaging = builder.AddMessaging(dfs);          // RabbitMQ + its epmd, your broker, or none (embedded: in-memory bus)
        var cache = builder.AddCache(dfs);                  // Redis, your server, or none (embedded: in-process caches)
        var adminPassword = builder.AddAdminPassword(dfs);
        var accessKeyMasterKey = builder.AddAccessKeyMasterKey(dfs);
        var clusterSecret = builder.AddClusterSecret(dfs);

        var gateways = dfs.GatewayNames.Select(name => builder.AddProject<Projects.Dfs_Gateway>(name)
            .WithDfsService(dfs, clusterSecret)
            .AsGateway(dfs, adminPassword, accessKeyMasterKey)
            .WithReference(metadata).WaitFor(metadata)
            .WithServer(messaging)
            .WithServer(cache)).ToList();
        var gateway = gateways[0].WithAddStorageNodeCommand();
        foreach (var other in gateways.Skip(1)) other.WaitFor(gateway);      // the first one migrates the metadata and creates the first admin

        foreach (var (name, startedWithCluster) in dfs.StorageNodes)
        {
            builder.AddProject<Projects.Dfs_StorageNode>(name)
                .WithDfsService(dfs, clusterSecret)
                .AsStorageNode(dfs, gateway)
                .WithGateways(gateways)
                .WithExplicitStartUnless(startedWithCluster);
        }

        if (messaging is not null)
        {
            builder.AddProject<Projects.Dfs_Replicator>(DfsCluster.ReplicatorName)
                .WithDfsService(dfs, clusterSecret)
                .AsReplicator(dfs)
                .WithReference(messaging).WaitFor(messaging)
                .WithGateways(gateways);
        }

        builder.Build().Run();
        return 0;
    }
}
