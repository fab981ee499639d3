namespace Dfs.Gateway.Tests.Metadata;

/// <summary>One real PostgreSQL server for this test run, started through the AppHost's own resource.</summary>
public static class PostgresServer
{
    public static Task<(string ConnectionString, int Port)> GetAsync() => throw new NotImplementedException();
}
