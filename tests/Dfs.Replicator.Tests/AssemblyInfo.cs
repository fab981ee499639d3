[assembly: AssemblyFixture(typeof(Dfs.Replicator.Tests.Infrastructure.StorageCluster))]
