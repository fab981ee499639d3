using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Resources;

namespace Dfs.AppHost.Tests;

public sealed class ProfileDetectorTests : IDisposable
{
    private const string FakeRabbit = "/opt/fake/rabbitmq-server";
    private static readonly Func<string?> RabbitInstalled = () => FakeRabbit;
    private static readonly Func<string?> NoRabbit = () => null;
    private readonly string _root = Path.Combine(Path.GetTempPath(), "dfs-pgroot-" + Guid.NewGuid().ToString("N")[..8]);

    public ProfileDetectorTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string FakeInstall(string version)
    {
        var bin = Path.Combine(_root, version, "bin");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "postgres"), "");
        File.WriteAllText(Path.Combine(bin, "initdb"), "");
        return bin;
    }

    [Fact]
    public void Auto_without_postgres_is_embedded_and_says_why_in_one_line()
    {
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, _root, RabbitInstalled);

        Assert.Equal(Profiles.Embedded, choice.Profile);
        Assert.Null(choice.PostgresBinDirectory);
        Assert.Equal($"profile: embedded (no PostgreSQL binaries found under {_root}; install the postgresql package for the local profile)", choice.Message);
        Assert.DoesNotContain('\n', choice.Message);
    }

    [Fact]
    public void Auto_with_postgres_is_local_with_the_newest_version()
    {
        FakeInstall("13");
        var newest = FakeInstall("15");
        Directory.CreateDirectory(Path.Combine(_root, "16", "bin")); // no binaries: not an installation

        var choice = ProfileDetector.Resolve(Profiles.Auto, null, _root, RabbitInstalled);

        Assert.Equal(Profiles.Local, choice.Profile);
        Assert.Equal(newest, choice.PostgresBinDirectory);
        Assert.Equal(FakeRabbit, choice.RabbitMqServer);
        Assert.Equal($"profile: local (PostgreSQL found in {newest}, RabbitMQ in {FakeRabbit})", choice.Message);
    }

    [Fact]
    public void Auto_with_postgres_but_without_rabbitmq_is_embedded_and_says_why()
    {
        FakeInstall("15");

        var choice = ProfileDetector.Resolve(Profiles.Auto, null, _root, NoRabbit);

        Assert.Equal(Profiles.Embedded, choice.Profile);
        Assert.Equal("profile: embedded (no rabbitmq-server found; install the rabbitmq-server package for the local profile)", choice.Message);
    }

    [Fact]
    public void Local_without_rabbitmq_is_a_clear_error()
    {
        FakeInstall("15");
        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, null, _root, NoRabbit));
        Assert.Contains("install the rabbitmq-server package", e.Message);
        Assert.Contains("--profile embedded", e.Message);
    }

    [Fact]
    public void Local_without_postgres_is_a_clear_error()
    {
        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, null, _root, RabbitInstalled));
        Assert.Contains("install the postgresql package", e.Message);
        Assert.Contains("--profile embedded", e.Message);
    }

    [Fact]
    public void Embedded_needs_no_postgres()
    {
        FakeInstall("15");
        Assert.Equal(Profiles.Embedded, ProfileDetector.Resolve(Profiles.Embedded, null, _root, NoRabbit).Profile);
    }

    [Fact]
    public void An_explicit_bin_dir_is_checked()
    {
        var bin = FakeInstall("14");
        Assert.Equal(bin, ProfileDetector.Resolve(Profiles.Auto, bin, "/nonexistent", RabbitInstalled).PostgresBinDirectory);
        Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, _root, "/nonexistent", RabbitInstalled));
    }

    [Fact]
    public void This_machine_has_postgresql_and_rabbitmq_installed()
    {
        // The local profile and the PostgreSQL and RabbitMQ tests rely on them (apt-get install postgresql rabbitmq-server).
        Assert.NotNull(ProfileDetector.FindPostgresBin());
        Assert.Equal(RabbitMqResource.DebianServerScript, RabbitMqResource.FindServer());
        Assert.Equal(Profiles.Local, ProfileDetector.Resolve(Profiles.Auto, null).Profile);
    }

    [Fact]
    public void External_says_where_the_servers_are_without_credentials()
    {
        var choice = ProfileDetector.Resolve(Profiles.External, null, _root, NoRabbit,
            "Host=db.example;Port=5433;Database=files;Username=dfs;Password=secret", "amqp://dfs:hunter2@mq.example/prod");
        Assert.Equal(Profiles.External, choice.Profile);
        Assert.Equal("profile: external (requested; metadata in PostgreSQL db.example:5433/files, messaging through RabbitMQ mq.example:5672/prod)", choice.Message);
        Assert.DoesNotContain("secret", choice.Message);
        Assert.DoesNotContain("hunter2", choice.Message);
    }

    [Fact]
    public void Auto_with_a_metadata_connection_string_is_external_even_when_servers_are_installed()
    {
        FakeInstall("15");
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, _root, RabbitInstalled, "Host=db;Database=dfs");
        Assert.Equal(Profiles.External, choice.Profile);
        Assert.Contains("a metadata connection string was given", choice.Message);
        Assert.Contains("the Replicator runs inside the gateway", choice.Message);
    }

    [Theory]
    [InlineData("Host=db;Bogus Key=1", null, "metadata connection string is not valid")]
    [InlineData("Host=db", "http://mq/", "must be an amqp:// or amqps:// URI")]
    public void External_refuses_connection_strings_it_cannot_use(string metadata, string? messaging, string expected)
    {
        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.External, null, _root, NoRabbit, metadata, messaging));
        Assert.Contains(expected, e.Message);
    }
}
