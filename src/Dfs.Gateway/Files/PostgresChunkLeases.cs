using System.Buffers.Binary;
using Npgsql;

namespace Dfs.Gateway.Files;

/// <summary>
/// Leases every gateway sees, as PostgreSQL advisory locks keyed by the chunk id: an upload holds a shared lock per chunk
/// on a connection of its own until it is over; collection takes the exclusive lock without waiting, inside a transaction
/// that lasts while it deletes the copies. A gateway that dies mid-upload loses its connection, and with it its locks.
/// </summary>
public sealed class PostgresChunkLeases(string connectionString) : IChunkLeases, IAsyncDisposable
{
    /// <summary>Connections for leases at most (uploads beyond it wait for one): with the metadata's own pool, within the server's limit.</summary>
    public const int MaxConnections = 50;

    // A pool of its own: uploads hold a connection each for their whole length, and must not starve the metadata's queries.
    private readonly NpgsqlDataSource leases = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(connectionString)
    {
        MaxPoolSize = MaxConnections,
        // An upload waits for a lease connection as long as it would wait for a node.
        Timeout = 60,
    }.ConnectionString);

    public IUploadLeases BeginUpload() => new Upload(leases);

    public ValueTask DisposeAsync() => leases.DisposeAsync();

    public async Task<IAsyncDisposable?> TryAcquireForDeleteAsync(string chunkId, CancellationToken ct)
    {
        var connection = await leases.OpenConnectionAsync(ct);
        try
        {
            var transaction = await connection.BeginTransactionAsync(ct);
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock($1)", connection, transaction) { Parameters = { new() { Value = Key(chunkId) } } };
            if (await command.ExecuteScalarAsync(ct) is true) return new DeleteLease(connection, transaction);
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
            return null;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>The first 64 bits of the chunk's SHA-256: two ids sharing them only make one wait for the other.</summary>
    internal static long Key(string chunkId) => BinaryPrimitives.ReadInt64BigEndian(Convert.FromHexString(chunkId.AsSpan(0, 16)));

    private sealed class Upload(NpgsqlDataSource leases) : IUploadLeases
    {
        private readonly SemaphoreSlim _gate = new(1, 1);
        private NpgsqlConnection? _connection;

        public async Task HoldAsync(string chunkId, CancellationToken ct)
        {
            await _gate.WaitAsync(ct);
            try
            {
                _connection ??= await leases.OpenConnectionAsync(ct);
                await using var command = new NpgsqlCommand("SELECT pg_advisory_lock_shared($1)", _connection) { Parameters = { new() { Value = Key(chunkId) } } };
                await command.ExecuteNonQueryAsync(ct);
            }
            finally
            {
                _gate.Release();
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _gate.WaitAsync();
            try
            {
                if (_connection is null) return;
                try
                {
                    await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock_all()", _connection);
                    await command.ExecuteNonQueryAsync();
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    // Not back in the pool holding locks: a broken connection is closed for good, and its locks go with it.
                    NpgsqlConnection.ClearPool(_connection);
                }
                await _connection.DisposeAsync();
                _connection = null;
            }
            finally
            {
                _gate.Release();
            }
        }
    }

    private sealed class DeleteLease(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await transaction.CommitAsync();
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
            {
            }
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
