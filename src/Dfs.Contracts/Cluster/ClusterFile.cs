using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dfs.Contracts.Cluster;

/// <summary>
/// DIR/cluster.json, written by the AppHost once the cluster is healthy; scripts, tests and `dfs` read it
/// to find the gateway. The shape is a public contract (see docs): add fields, never rename them.
/// </summary>
public sealed record ClusterFile(
    string Profile,
    string Gateway,
    string? Dashboard,
    IReadOnlyList<ClusterResource> Resources,
    string? DashboardToken = null)
{
    public const string FileName = "cluster.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>The state folder used when none is given: $DFS_STATE_DIR, else ~/.local/share/dfs.</summary>
    public static string DefaultStateDirectory =>
        Environment.GetEnvironmentVariable("DFS_STATE_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "dfs");

    public static ClusterFile? TryRead(string stateDirectory)
    {
        var path = Path.Combine(stateDirectory, FileName);
        if (!File.Exists(path)) return null;
        try { return JsonSerializer.Deserialize<ClusterFile>(File.ReadAllText(path), Json); }
        catch (JsonException) { return null; }
        catch (IOException) { return null; }
    }

    /// <summary>
    /// Writes atomically (temp file + rename) so a reader never sees half a file; readable by its owner only,
    /// since it holds the dashboard's token.
    /// </summary>
    public void Write(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = Path.Combine(stateDirectory, FileName);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
            JsonSerializer.Serialize(stream, this, Json);
        File.Move(temp, path, overwrite: true);
    }
}

public sealed record ClusterResource(string Name, string Kind, int? Pid, string? Url, string State);

/// <summary>Resource kinds as they appear in cluster.json.</summary>
public static class ResourceKinds
{
    public const string Postgres = "postgres";
    public const string RabbitMq = "rabbitmq";
    public const string Gateway = "gateway";
    public const string StorageNode = "storage-node";
    public const string Replicator = "replicator";
}
