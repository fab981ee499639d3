using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Data;

internal static class DbErrors
{
    /// <summary>A unique or primary key was violated: someone else committed the same name or row first.</summary>
    public static bool IsUniqueViolation(DbUpdateException e) => e.InnerException switch
    {
        Npgsql.PostgresException pg => pg.SqlState == Npgsql.PostgresErrorCodes.UniqueViolation,
        Microsoft.Data.Sqlite.SqliteException lite => lite.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        _ => false,
    };

    /// <summary>Lost a race that a retry of the whole unit of work resolves.</summary>
    public static bool IsRetryable(Exception e) => e switch
    {
        DbUpdateConcurrencyException => true,
        DbUpdateException u => IsUniqueViolation(u) || IsTransientConflict(u.InnerException),
        _ => IsTransientConflict(e) || IsTransientConflict(e.InnerException),
    };

    /// <summary>PostgreSQL serialization failures and deadlocks, SQLite busy/locked: the transaction may simply be run again.</summary>
    private static bool IsTransientConflict(Exception? e) => e switch
    {
        Npgsql.PostgresException pg => pg.SqlState is Npgsql.PostgresErrorCodes.SerializationFailure or Npgsql.PostgresErrorCodes.DeadlockDetected,
        Microsoft.Data.Sqlite.SqliteException lite => lite.SqliteErrorCode is 5 or 6, // SQLITE_BUSY, SQLITE_LOCKED
        _ => false,
    };
}
