using Dfs.Gateway.Data;
using Npgsql;

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>The gateway's PostgreSQL defaults fill in what a connection string leaves unsaid, and nothing else.</summary>
public sealed class ConnectionStringTests
{
    [Fact]
    public void Unsaid_reset_and_prepare_settings_get_the_gateways_defaults()
    {
        var tuned = new NpgsqlConnectionStringBuilder(
            MetadataDatabaseExtensions.TunedForPostgres("Host=127.0.0.1;Port=5432;Username=postgres;Database=dfs;Maximum Pool Size=50"));
        Assert.True(tuned.NoResetOnClose);
        Assert.Equal(64, tuned.MaxAutoPrepare);
        Assert.Equal((50, "dfs", 5432), (tuned.MaxPoolSize, tuned.Database, tuned.Port));
    }

    [Theory]
    [InlineData("Host=h;No Reset On Close=false;Max Auto Prepare=0")]
    [InlineData("Host=h;NoResetOnClose=false;MaxAutoPrepare=0")]
    public void Settings_the_connection_string_gives_are_kept(string connectionString)
    {
        var tuned = new NpgsqlConnectionStringBuilder(MetadataDatabaseExtensions.TunedForPostgres(connectionString));
        Assert.False(tuned.NoResetOnClose);
        Assert.Equal(0, tuned.MaxAutoPrepare);
    }
}
