using Dfs.Testing;

[assembly: AssemblyFixture(typeof(Dfs.Gateway.Tests.Metadata.PostgresServer))]

namespace Dfs.Gateway.Tests.Metadata;

/// <summary>
/// One real PostgreSQL server for this test assembly, run by the AppHost's own hosting integration (the same
/// code that runs it for a cluster); started on first use, stopped when the assembly's tests end.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private static PostgresServer? _instance;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private DfsServer? _server;
    private string? _connectionString;

    public PostgresServer() => _instance = this;

    public string ConnectionString => _connectionString ?? throw new InvalidOperationException("not started");

    public static async Task<PostgresServer> GetAsync()
    {
        var server = _instance ?? throw new InvalidOperationException("The PostgresServer assembly fixture was not created.");
        await server.EnsureStartedAsync();
        return server;
    }

    private async Task EnsureStartedAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_server is not null) return;
            _server = await DfsServer.StartPostgresAsync();
            _connectionString = _server.ConnectionString;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null) await _server.DisposeAsync();
    }
}
