using Dfs.Cli.Commands;
using Dfs.Cli.Configuration;
using Dfs.Cli.Tests.Infrastructure;

namespace Dfs.Cli.Tests;

public sealed class CredentialStoreTests : IDisposable
{
    private readonly TempFolder _folder = new();

    [Fact]
    public void The_config_folder_follows_xdg_config_home_then_home()
    {
        Assert.Equal(Path.Combine("/x/config", "dfs"), CliEnvironment.DefaultConfigDirectory(v => v == "XDG_CONFIG_HOME" ? "/x/config" : "/home/u"));
        Assert.Equal(Path.Combine("/home/u", ".config", "dfs"), CliEnvironment.DefaultConfigDirectory(v => v == "HOME" ? "/home/u" : null));
        // A relative XDG_CONFIG_HOME is invalid per the XDG spec and ignored.
        Assert.Equal(Path.Combine("/home/u", ".config", "dfs"), CliEnvironment.DefaultConfigDirectory(v => v == "XDG_CONFIG_HOME" ? "relative" : "/home/u"));

        var env = CliEnvironment.ForWriters(TextWriter.Null, TextWriter.Null) with { ConfigDirectory = _folder.Path };
        Assert.Equal(_folder.Path, env.ConfigDirectory);
    }

    [Fact]
    public void Gateways_are_keyed_by_url_without_a_trailing_slash()
    {
        var store = new CredentialStore(_folder["dfs"]);
        store.Save(new Uri("http://LOCALHOST:5000/"), new SavedCredential("alice", "dfs_a", DateTime.UtcNow.AddDays(1)));

        Assert.Equal("dfs_a", store.Get(new Uri("http://localhost:5000"))?.Token);
        Assert.Null(store.Get(new Uri("http://localhost:5001")));
        Assert.True(store.Remove(new Uri("http://localhost:5000")));
        Assert.False(store.Remove(new Uri("http://localhost:5000")));
    }

    [Fact]
    public void A_damaged_or_world_readable_file_is_reported_not_fatal()
    {
        var warnings = new List<string>();
        var store = new CredentialStore(_folder.Path, warnings.Add);
        File.WriteAllText(store.FilePath, "{ not json");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(store.FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);

        Assert.Empty(store.Load());
        Assert.Contains(warnings, w => w.Contains("not valid JSON"));
        if (!OperatingSystem.IsWindows()) Assert.Contains(warnings, w => w.Contains($"chmod 600 {store.FilePath}"));

        // Saving replaces the damaged file with an owner-only one.
        store.Save(new Uri("http://127.0.0.1:1"), new SavedCredential("alice", "dfs_a", DateTime.UtcNow.AddDays(1)));
        Assert.Equal("dfs_a", store.Get(new Uri("http://127.0.0.1:1"))?.Token);
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(store.FilePath));
        Assert.Single(Directory.GetFiles(_folder.Path));
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("1048576", 1048576L)]
    [InlineData("500M", 500L << 20)]
    [InlineData("500m", 500L << 20)]
    [InlineData("2G", 2L << 30)]
    [InlineData("2GB", 2L << 30)]
    [InlineData("2 GiB", 2L << 30)]
    [InlineData("64K", 64L << 10)]
    [InlineData("1T", 1L << 40)]
    [InlineData("0.5G", 1L << 29)]
    [InlineData("100B", 100L)]
    public void Sizes_accept_bytes_and_binary_units(string text, long expected)
    {
        Assert.True(Sizes.TryParse(text, out var bytes));
        Assert.Equal(expected, bytes);
    }

    [Theory]
    [InlineData("")]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("2X")]
    [InlineData("G")]
    [InlineData("iB")]
    [InlineData("99999999999999999999G")]
    public void Sizes_reject_anything_else(string text) => Assert.False(Sizes.TryParse(text, out _));

    public void Dispose() => _folder.Dispose();
}
