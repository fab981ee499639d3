namespace Dfs.Contracts.Cluster;

/// <summary>
/// STATE/gateway/admin-password: the gateway's first-admin password, which the AppHost generates at a cluster's
/// first run and keeps owner-only beside <see cref="ClusterFile"/>. `dfs login` on the same machine reads it so
/// nobody has to copy the password. One definition of the path for the writer (the AppHost) and the readers.
/// </summary>
public static class AdminPasswordFile
{
    /// <summary>The gateway's folder in the state folder.</summary>
    public const string FolderName = "gateway";

    public const string FileName = "admin-password";

    /// <summary>The first admin's name unless the cluster configures another (then cluster.json's adminUser names it).</summary>
    public const string DefaultUser = "admin";

    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, FolderName, FileName);

    /// <summary>The kept password (without its line end), or null when the file is missing, unreadable or empty.</summary>
    public static string? TryRead(string stateDirectory)
    {
        try
        {
            var password = File.ReadAllText(PathIn(stateDirectory)).Trim();
            return password.Length > 0 ? password : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
