using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;

namespace Dfs.Gateway.Tests.Api;

/// <summary>The real gateway in-process over a fresh SQLite database (the embedded profile's store).</summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("dfs-gw-");

    /// <summary>Real Kestrel on a free loopback port: raw request targets reach the gateway as a client sends them.</summary>
    public GatewayFactory() => UseKestrel(0);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("ConnectionStrings:metadata", $"Data Source={Path.Combine(_folder.FullName, "dfs.db")}");
        builder.UseSetting("Dfs:Gateway:ChunkSizeBytes", "65536");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        SqliteConnection.ClearAllPools();
        _folder.Delete(recursive: true);
    }
}
