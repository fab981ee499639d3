using System.Reflection;

namespace Dfs.IntegrationTests.Support;

/// <summary>Where the build put the executables the tests run as processes (stamped by the project file).</summary>
internal static class Built
{
    /// <summary>src/Dfs.StorageNode/bin/CONFIGURATION/net10.0/Dfs.StorageNode.</summary>
    public static string StorageNode => Path("DfsStorageNodePath");

    /// <summary>The checkout the tests were built from (where Dfs.sln is): its scripts and artifacts folders.</summary>
    public static string RepositoryRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
                if (File.Exists(System.IO.Path.Combine(dir.FullName, "Dfs.sln"))) return dir.FullName;
            throw new InvalidOperationException("Dfs.sln not found above " + AppContext.BaseDirectory);
        }
    }

    private static string Path(string key)
    {
        var path = typeof(Built).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
        Assert.True(File.Exists(path), $"{path} is not built");
        return path;
    }
}
