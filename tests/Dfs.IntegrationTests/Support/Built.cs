using System.Reflection;

namespace Dfs.IntegrationTests.Support;

/// <summary>Where the build put the executables the tests run as processes (stamped by the project file).</summary>
internal static class Built
{
    /// <summary>src/Dfs.StorageNode/bin/CONFIGURATION/net10.0/Dfs.StorageNode.</summary>
    public static string StorageNode => Path("DfsStorageNodePath");

    private static string Path(string key)
    {
        var path = typeof(Built).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        Assert.True(File.Exists(path), $"{path} is not built");
        return path;
    }
}
