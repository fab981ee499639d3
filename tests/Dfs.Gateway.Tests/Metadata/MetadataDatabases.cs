using Microsoft.Data.Sqlite;
using Npgsql;

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>Fresh metadata databases on each provider the gateway supports.</summary>
public static class MetadataDatabases
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";

    public static TheoryData<string> Providers => [Sqlite, Postgres];

    public static async Task<MetadataHarness> CreateAsync(string provider, TimeProvider? clock = null)
    {
        if (provider == Sqlite)
        {
            var folder = Directory.CreateTempSubdirectory("dfs-meta-");
            var cs = $"Data Source={Path.Combine(folder.FullName, "dfs.db")}";
            return await MetadataHarness.CreateAsync(cs, () =>
            {
                SqliteConnection.ClearAllPools();
                folder.Delete(recursive: true);
                return ValueTask.CompletedTask;
            }, clock);
        }

        var server = await PostgresServer.GetAsync();
        var name = "dfs_test_" + Guid.NewGuid().ToString("N")[..12];
        var database = new NpgsqlConnectionStringBuilder(server.ConnectionString) { Database = name }.ConnectionString;
        return await MetadataHarness.CreateAsync(database, async () =>
        {
            NpgsqlConnection.ClearAllPools();
            await using var admin = new NpgsqlConnection(server.ConnectionString);
            await admin.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {name} WITH (FORCE)", admin);
            await drop.ExecuteNonQueryAsync();
        }, clock);
    }
}
