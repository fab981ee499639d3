using Dfs.AppHost.Cluster;
using Dfs.AppHost.Settings;
using Dfs.AppHost.Tests.Support;

namespace Dfs.AppHost.Tests.Model;

/// <summary>
/// The gateways' access key master key: generated once per state folder, kept owner-only, the same on every later run
/// (the access keys in the database were sealed with it), and given to the gateways as a secret parameter.
/// </summary>
public sealed class AccessKeyMasterKeyTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly string _state = DfsTestCluster.NewStateDirectory();

    public void Dispose() => Directory.Delete(_state, recursive: true);

    private string FilePath => AccessKeyMasterKey.PathIn(_state);

    [Fact]
    public void The_key_file_is_created_once_owner_only_and_reused()
    {
        Assert.Equal(Path.Combine(_state, "gateway", "access-key-master-key"), FilePath);
        Assert.False(File.Exists(FilePath));

        var key = AccessKeyMasterKey.LoadOrCreate(FilePath);
        Assert.Matches("^[0-9a-f]{64}$", key);
        Assert.Equal(key + "\n", File.ReadAllText(FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));

        // The next run takes the same key; a file others could read is made owner-only.
        File.SetUnixFileMode(FilePath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        Assert.Equal(key, AccessKeyMasterKey.LoadOrCreate(FilePath));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FilePath));
        Assert.Equal(key + "\n", File.ReadAllText(FilePath));

        // Another state folder, another key.
        var other = DfsTestCluster.NewStateDirectory();
        try
        {
            Assert.NotEqual(key, AccessKeyMasterKey.LoadOrCreate(AccessKeyMasterKey.PathIn(other)));
        }
        finally
        {
            Directory.Delete(other, recursive: true);
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("0123456789abcdef")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeX")]
    public void A_kept_file_that_is_not_a_key_is_refused_and_left_alone(string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(FilePath)!);
        File.WriteAllText(FilePath, content);

        var e = Assert.Throws<AppHostConfigurationException>(() => AccessKeyMasterKey.LoadOrCreate(FilePath));
        Assert.Contains("64 hex digits", e.Message);
        Assert.Contains(FilePath, e.Message);
        Assert.Equal(content, File.ReadAllText(FilePath));
    }

    [Fact]
    public async Task Every_gateway_gets_the_state_folders_key_unless_one_is_configured()
    {
        // Two gateways need a cache: the external profile's, which starts nothing.
        var options = new DfsClusterOptions { Profile = "external", Nodes = 1, Gateways = 2, GatewayPort = 0 };
        options.ExtraArguments.AddRange(["--metadata", "Host=db.example;Database=dfs;Username=dfs", "--cache", "cache.example:6379"]);
        var args = options.ToArguments(_state);
        string key;
        await using (var model = await AppHostModel.BuildAsync(args, Ct))
        {
            key = (await model.EnvironmentAsync("gateway", Ct))[AccessKeyMasterKey.Variable];
            Assert.Equal(key, (await model.EnvironmentAsync("gateway-2", Ct))[AccessKeyMasterKey.Variable]);
        }
        Assert.Equal(key + "\n", await File.ReadAllTextAsync(FilePath, Ct));
        await using (var again = await AppHostModel.BuildAsync(args, Ct))
            Assert.Equal(key, (await again.EnvironmentAsync("gateway", Ct))[AccessKeyMasterKey.Variable]);

        // A configured one wins, and the file is left alone.
        var chosen = new string('a', 64);
        await using (var configured = await AppHostModel.BuildAsync([.. args, "--Parameters:access-key-master-key=" + chosen], Ct))
            Assert.Equal(chosen, (await configured.EnvironmentAsync("gateway-2", Ct))[AccessKeyMasterKey.Variable]);
        Assert.Equal(key + "\n", await File.ReadAllTextAsync(FilePath, Ct));
    }
}
