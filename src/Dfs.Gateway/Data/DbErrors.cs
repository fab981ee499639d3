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

    /// <summary>Lost a race that a retry of the whole unit of work resolves (looks through EF's wrappers).</summary>
    public static bool IsRetryable(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            if (current is DbUpdateConcurrencyException) return true;
            if (current is DbUpdateException u && IsUniqueViolation(u)) return true;
            if (IsTransientConflict(current)) return true;
        }
        return false;
    }

    /// <summary>PostgreSQL serialization failures and deadlocks, SQLite busy/locked: the transaction may simply be run again.</summary>
    private static bool IsTransientConflict(Exception? e) => e switch
    {
        Npgsql.PostgresException pg => pg.SqlState is Npgsql.PostgresErrorCodes.SerializationFailure or Npgsql.PostgresErrorCodes.DeadlockDetected,
        Microsoft.Data.Sqlite.SqliteException lite => lite.SqliteErrorCode is 5 or 6, // SQLITE_BUSY, SQLITE_LOCKED
        _ => false,
    };
}
