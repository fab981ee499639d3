using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;

namespace Dfs.AppHost.Tests;

public sealed class ProfileDetectorTests : IDisposable
{
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
        var choice = ProfileDetector.Resolve(Profiles.Auto, null, _root);

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

        var choice = ProfileDetector.Resolve(Profiles.Auto, null, _root);

        Assert.Equal(Profiles.Local, choice.Profile);
        Assert.Equal(newest, choice.PostgresBinDirectory);
        Assert.Equal($"profile: local (PostgreSQL found in {newest})", choice.Message);
    }

    [Fact]
    public void Local_without_postgres_is_a_clear_error()
    {
        var e = Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, null, _root));
        Assert.Contains("install the postgresql package", e.Message);
        Assert.Contains("--profile embedded", e.Message);
    }

    [Fact]
    public void Embedded_needs_no_postgres()
    {
        FakeInstall("15");
        Assert.Equal(Profiles.Embedded, ProfileDetector.Resolve(Profiles.Embedded, null, _root).Profile);
    }

    [Fact]
    public void An_explicit_bin_dir_is_checked()
    {
        var bin = FakeInstall("14");
        Assert.Equal(bin, ProfileDetector.Resolve(Profiles.Auto, bin, "/nonexistent").PostgresBinDirectory);
        Assert.Throws<AppHostConfigurationException>(() => ProfileDetector.Resolve(Profiles.Local, _root, "/nonexistent"));
    }

    [Fact]
    public void This_machine_has_postgresql_installed()
    {
        // The local profile and the PostgreSQL tests rely on it (apt-get install postgresql).
        Assert.NotNull(ProfileDetector.FindPostgresBin());
        Assert.Equal(Profiles.Local, ProfileDetector.Resolve(Profiles.Auto, null).Profile);
    }
}
