using Dfs.AppHost.Servers;

namespace Dfs.AppHost.Settings;

/// <summary>The profile actually used and why, for the one line the AppHost prints at start.</summary>
public sealed record ProfileChoice(string Profile, string? PostgresBinDirectory, string Reason)
{
    /// <summary>The rabbitmq-server script (local profile).</summary>
    public string? RabbitMqServer { get; init; }

    /// <summary>redis-server (local profile).</summary>
    public string? RedisServer { get; init; }

    public string Message => $"profile: {Profile} ({Reason})";
}

/// <summary>Thrown for settings that cannot work; the exe prints the message and exits with code 2.</summary>
public sealed class AppHostConfigurationException(string message) : Exception(message);

public static class ProfileDetector
{
    public const string DefaultSearchRoot = "/usr/lib/postgresql";

    /// <summary>
    /// auto = external when a metadata connection string is given, else local when a PostgreSQL server (or
    /// <paramref name="postgresBinDir"/>), RabbitMQ and Redis are installed, else embedded.
    /// </summary>
    /// <param name="findRabbitMq">Finds rabbitmq-server; default <see cref="RabbitMqServerResource.FindServerScript"/>.</param>
    /// <param name="findRedis">Finds redis-server; default <see cref="RedisServerResource.FindServer"/>.</param>
    public static ProfileChoice Resolve(string requested, string? postgresBinDir, string searchRoot = DefaultSearchRoot, Func<string?>? findRabbitMq = null,
        Func<string?>? findRedis = null, string? metadataConnectionString = null, string? messagingConnectionString = null, string? cacheConnectionString = null)
    {
        findRabbitMq ??= RabbitMqServerResource.FindServerScript;
        findRedis ??= RedisServerResource.FindServer;
        if (requested == Profiles.Auto && metadataConnectionString is not null)
            return External("a metadata connection string was given", metadataConnectionString, messagingConnectionString, cacheConnectionString);
        switch (requested)
        {
            case Profiles.External:
                return External("requested", metadataConnectionString
                    ?? throw new AppHostConfigurationException("profile external needs the metadata connection string (--metadata)."), messagingConnectionString,
                    cacheConnectionString);
            case Profiles.Embedded:
                return new ProfileChoice(Profiles.Embedded, null, "requested; SQLite metadata, in-process messaging and caches, no PostgreSQL, RabbitMQ or Redis");
            case Profiles.Local:
            {
                var bin = postgresBinDir is null ? FindPostgresBin(searchRoot) : CheckBinDir(postgresBinDir);
                if (bin is null)
                    throw new AppHostConfigurationException(
                        $"profile local needs PostgreSQL, but no PostgreSQL binaries were found under {searchRoot}; install the postgresql package, set --postgres-bin-dir, or use --profile embedded.");
                var rabbit = findRabbitMq()
                    ?? throw new AppHostConfigurationException(
                        "profile local needs RabbitMQ, but rabbitmq-server was not found; install the rabbitmq-server package or use --profile embedded.");
                var redis = findRedis()
                    ?? throw new AppHostConfigurationException(
                        "profile local needs Redis, but redis-server was not found; install the redis-server package or use --profile embedded.");
                return new ProfileChoice(Profiles.Local, bin, $"requested; PostgreSQL from {bin}, RabbitMQ from {rabbit}, Redis from {redis}")
                    { RabbitMqServer = rabbit, RedisServer = redis };
            }
            case Profiles.Auto:
            {
                var bin = postgresBinDir is null ? FindPostgresBin(searchRoot) : CheckBinDir(postgresBinDir);
                if (bin is null)
                    return new ProfileChoice(Profiles.Embedded, null,
                        $"no PostgreSQL binaries found under {searchRoot}; install the postgresql package for the local profile");
                if (findRabbitMq() is not { } rabbit)
                    return new ProfileChoice(Profiles.Embedded, null, "no rabbitmq-server found; install the rabbitmq-server package for the local profile");
                if (findRedis() is not { } redis)
                    return new ProfileChoice(Profiles.Embedded, null, "no redis-server found; install the redis-server package for the local profile");
                return new ProfileChoice(Profiles.Local, bin, $"PostgreSQL found in {bin}, RabbitMQ in {rabbit}, Redis in {redis}")
                    { RabbitMqServer = rabbit, RedisServer = redis };
            }
            default:
                throw new AppHostConfigurationException($"profile '{requested}' is not one of {string.Join(", ", Profiles.All)}.");
        }
    }

    private static ProfileChoice External(string why, string metadata, string? messaging, string? cache) =>
        new(Profiles.External, null, $"{why}; metadata in {DescribeMetadata(metadata)}, " +
            (messaging is null ? "no broker given: the Replicator runs inside the gateway" : $"messaging through {DescribeMessaging(messaging)}") + ", " +
            (cache is null ? "no cache given: each gateway caches in its own memory" : $"cache in Redis {DescribeCache(cache)}"));

    /// <summary>Where a connection string points, without its credentials (the line is printed and logged).</summary>
    public static string DescribeMetadata(string connectionString)
    {
        if (connectionString.TrimStart().StartsWith("Data Source=", StringComparison.OrdinalIgnoreCase))
            return "SQLite " + connectionString.Trim()["Data Source=".Length..].Split(';')[0];
        try
        {
            var b = new Npgsql.NpgsqlConnectionStringBuilder(connectionString);
            return $"PostgreSQL {b.Host}:{b.Port}/{b.Database}";
        }
        catch (ArgumentException e)
        {
            throw new AppHostConfigurationException($"the metadata connection string is not valid: {e.Message}");
        }
    }

    public static string DescribeMessaging(string connectionString) =>
        Uri.TryCreate(connectionString, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps"
            ? $"RabbitMQ {uri.Host}:{(uri.IsDefaultPort ? (uri.Scheme == "amqps" ? 5671 : 5672) : uri.Port)}{uri.AbsolutePath.TrimEnd('/')}"
            : throw new AppHostConfigurationException("the messaging connection string must be an amqp:// or amqps:// URI (amqp://user:password@host:5672/vhost).");

    /// <summary>host:port of a StackExchange.Redis configuration string, without its password.</summary>
    public static string DescribeCache(string connectionString)
    {
        var endpoint = connectionString.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault(p => !p.Contains('=', StringComparison.Ordinal));
        return endpoint ?? throw new AppHostConfigurationException("the cache connection string names no host:port (host:port[,password=…]).");
    }

    /// <summary>The newest ROOT/VERSION/bin that holds both postgres and initdb.</summary>
    public static string? FindPostgresBin(string searchRoot = DefaultSearchRoot)
    {
        if (!Directory.Exists(searchRoot)) return null;
        return Directory.EnumerateDirectories(searchRoot)
            .Select(dir => (Dir: Path.Combine(dir, "bin"), Version: decimal.TryParse(Path.GetFileName(dir), System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : -1))
            .Where(c => IsPostgresBin(c.Dir))
            .OrderByDescending(c => c.Version)
            .Select(c => c.Dir)
            .FirstOrDefault();
    }

    private static string CheckBinDir(string dir) => IsPostgresBin(dir)
        ? Path.GetFullPath(dir)
        : throw new AppHostConfigurationException($"postgres-bin-dir {dir} does not hold both 'postgres' and 'initdb'.");

    private static bool IsPostgresBin(string dir) => File.Exists(Path.Combine(dir, "postgres")) && File.Exists(Path.Combine(dir, "initdb"));
}
