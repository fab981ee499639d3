using Dfs.AppHost.Servers;
using Dfs.AppHost.Settings;

namespace Dfs.AppHost.Tests.Settings;

/// <summary>Which profile a run gets and the one line that says why: every branch, with fake installations.</summary>
public sealed class ProfileDetectorTests : IDisposable
{
    private const string FakeRabbit = "/opt/fake/rabbitmq-server";
    private const string FakeRedis = "/opt/fake/redis-server";
    private static readonly Func<string?> RabbitInstalled = () => FakeRabbit;
    private static readonly Func<string?> RedisInstalled = () => FakeRedis;
    private static readonly Func<string?> Missing = () => null;

    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("dfs-pgroot-");

    public void Dispose() => _root.Delete(recursive: true);

    private string Root => _root.FullName;

    private string FakeInstall(string version)
    {
        var bin = Path.Combine(Root, version, "bin");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "postgres"), "");
        File.WriteAllText(Path.Combine(bin, "initdb"), "");
        return bin;
    }

    [Fact]
    public void Auto_with_all_three_servers_is_local_with_the_newest_postgresql()
    {
        FakeInstall("13");
        var newest = FakeInstall("15");
        Directory.CreateDirectory(Path.Combine(Root, "16", "bin")); // no binaries: not an installation

        var choice = ProfileDetector.Resolve(Profiles.Auto, null, Root, RabbitInstalled, RedisInstalled);

        Assert.Equal(Profiles.Local, choice.Profile);
        Assert.Equal((newest, FakeRabbit, FakeRedis), (choice.PostgresBinDirectory, choice.RabbitMqServer, choice.RedisServer));
        Assert.Equal($"profile: local (PostgreSQL found in {newest}, RabbitMQ in {FakeRabbit}, Redis in {FakeRedis})", choice.Message);
    }

    [Fact]
    public void Auto_without_postgresql_is_embedded_and_says_why_in_one_line()
    {
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, Root, RabbitInstalled, RedisInstalled);

        Assert.Equal(Profiles.Embedded, choice.Profile);
        Assert.Null(choice.PostgresBinDirectory);
        Assert.Equal($"profile: embedded (no PostgreSQL binaries found under {Root}; install the postgresql package for the local profile)", choice.Message);
        Assert.DoesNotContain('\n', choice.Message);
    }

    [Fact]
    public void Auto_without_rabbitmq_is_embedded_and_says_why()
    {
        FakeInstall("15");
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, Root, Missing, RedisInstalled);

        Assert.Equal(Profiles.Embedded, choice.Profile);
        Assert.Equal("profile: embedded (no rabbitmq-server found; install the rabbitmq-server package for the local profile)", choice.Message);
    }

    [Fact]
    public void Auto_without_redis_is_embedded_and_says_why()
    {
        FakeInstall("15");
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, Root, RabbitInstalled, Missing);

        Assert.Equal(Profiles.Embedded, choice.Profile);
        Assert.Null(choice.RedisServer);
        Assert.Equal("profile: embedded (no redis-server found; install the redis-server package for the local profile)", choice.Message);
    }

    [Fact]
    public void Local_names_what_is_missing_and_the_way_out()
    {
        var noPostgres = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, null, Root, RabbitInstalled, RedisInstalled));
        Assert.Equal($"profile local needs PostgreSQL, but no PostgreSQL binaries were found under {Root}; install the postgresql package, set --postgres-bin-dir, or use --profile embedded.",
            noPostgres.Message);

        FakeInstall("15");
        var noRabbit = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, null, Root, Missing, RedisInstalled));
        Assert.Equal("profile local needs RabbitMQ, but rabbitmq-server was not found; install the rabbitmq-server package or use --profile embedded.", noRabbit.Message);

        var noRedis = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, null, Root, RabbitInstalled, Missing));
        Assert.Equal("profile local needs Redis, but redis-server was not found; install the redis-server package or use --profile embedded.", noRedis.Message);
    }

    [Fact]
    public void Local_with_everything_says_where_each_server_comes_from()
    {
        var bin = FakeInstall("15");
        var choice = ProfileDetector.Resolve(Profiles.Local, null, Root, RabbitInstalled, RedisInstalled);

        Assert.Equal(Profiles.Local, choice.Profile);
        Assert.Equal($"profile: local (requested; PostgreSQL from {bin}, RabbitMQ from {FakeRabbit}, Redis from {FakeRedis})", choice.Message);
    }

    [Fact]
    public void Embedded_needs_no_server_at_all()
    {
        var choice = ProfileDetector.Resolve(Profiles.Embedded, null, Root, Missing, Missing);

        Assert.Equal(Profiles.Embedded, choice.Profile);
        Assert.Equal("profile: embedded (requested; SQLite metadata, in-process messaging and caches, no PostgreSQL, RabbitMQ or Redis)", choice.Message);
    }

    [Fact]
    public void An_explicit_bin_dir_is_used_when_it_holds_postgres_and_initdb_and_refused_otherwise()
    {
        var bin = FakeInstall("14");
        Assert.Equal(bin, ProfileDetector.Resolve(Profiles.Auto, bin, "/nonexistent", RabbitInstalled, RedisInstalled).PostgresBinDirectory);
        Assert.Equal(bin, ProfileDetector.Resolve(Profiles.Local, bin, "/nonexistent", RabbitInstalled, RedisInstalled).PostgresBinDirectory);

        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, Root, "/nonexistent", RabbitInstalled, RedisInstalled));
        Assert.Equal($"postgres-bin-dir {Root} does not hold both 'postgres' and 'initdb'.", e.Message);
        Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Auto, Root, "/nonexistent", RabbitInstalled, RedisInstalled));
    }

    [Fact]
    public void Auto_with_a_metadata_connection_string_is_external_even_when_servers_are_installed()
    {
        FakeInstall("15");
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, Root, RabbitInstalled, RedisInstalled, "Host=db;Database=dfs");

        Assert.Equal(Profiles.External, choice.Profile);
        Assert.Equal("profile: external (a metadata connection string was given; metadata in PostgreSQL db:5432/dfs, " +
                     "no broker given: the Replicator runs inside the gateway, no cache given: each gateway caches in its own memory)", choice.Message);
    }

    [Fact]
    public void External_says_where_the_servers_are_without_credentials()
    {
        var choice = ProfileDetector.Resolve(Profiles.External, null, Root, Missing, Missing,
            "Host=db.example;Port=5433;Database=files;Username=dfs;Password=secret", "amqps://dfs:hunter2@mq.example/prod", "cache.example:6380,password=letmein");

        Assert.Equal("profile: external (requested; metadata in PostgreSQL db.example:5433/files, messaging through RabbitMQ mq.example:5671/prod, " +
                     "cache in Redis cache.example:6380)", choice.Message);
        Assert.DoesNotContain("secret", choice.Message);
        Assert.DoesNotContain("hunter2", choice.Message);
        Assert.DoesNotContain("letmein", choice.Message);
        Assert.Equal("SQLite /var/dfs/meta.db", ProfileDetector.DescribeMetadata("Data Source=/var/dfs/meta.db;Cache=Shared"));
    }

    [Theory]
    [InlineData(null, null, null, "profile external needs the metadata connection string (--metadata).")]
    [InlineData("Host=db;Bogus Key=1", null, null, "the metadata connection string is not valid")]
    [InlineData("Host=db", "http://mq/", null, "the messaging connection string must be an amqp:// or amqps:// URI")]
    [InlineData("Host=db", null, "password=x", "the cache connection string names no host:port")]
    public void External_refuses_what_it_cannot_use(string? metadata, string? messaging, string? cache, string expected)
    {
        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.External, null, Root, Missing, Missing, metadata, messaging, cache));
        Assert.StartsWith(expected, e.Message);
    }

    [Fact]
    public void An_unknown_profile_is_refused()
    {
        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve("cloud", null, Root, RabbitInstalled, RedisInstalled));
        Assert.Equal("profile 'cloud' is not one of auto, local, embedded, external.", e.Message);
    }

    [Fact]
    public void This_machine_has_postgresql_rabbitmq_and_redis_installed()
    {
        // The local profile, the server tests and the cluster tests rely on them (apt-get install postgresql rabbitmq-server redis-server).
        Assert.NotNull(ProfileDetector.FindPostgresBin());
        Assert.Equal(RabbitMqServerResource.DebianServerScript, RabbitMqServerResource.FindServerScript());
        Assert.Equal(RedisServerResource.DefaultProgram, RedisServerResource.FindServer());
        Assert.True(File.Exists(EpmdResource.DefaultProgram), EpmdResource.DefaultProgram);
        Assert.Equal(Profiles.Local, ProfileDetector.Resolve(Profiles.Auto, null).Profile);
    }
}
