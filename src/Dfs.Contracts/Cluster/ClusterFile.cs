using System.Text.Json;
using System.Text.Json.Serialization;

namespace Dfs.Contracts.Cluster;

/// <summary>
/// DIR/cluster.json, written by the AppHost once the cluster is healthy and kept current as resources change;
/// scripts, tests and `dfs` read it to find the gateway and to show the resources. The shape is a public contract
/// (see docs): add fields, never rename them. Reading is tolerant because the AppHost that writes it may be newer
/// or older than the reader: unknown fields are ignored, and missing ones read as empty (see <see cref="Read"/>).
/// </summary>
/// <param name="AdminUser">The gateway's first admin when it is not <see cref="AdminPasswordFile.DefaultUser"/>.</param>
/// <param name="S3">The first gateway's S3 endpoint URL: what S3 clients take as their endpoint URL.</param>
public sealed record ClusterFile(
    string Profile,
    string Gateway,
    string? Dashboard,
    IReadOnlyList<ClusterResource> Resources,
    string? DashboardToken = null,
    string? AdminUser = null,
    string? S3 = null)
{
    public const string FileName = "cluster.json";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        // A writer that quotes its numbers (a pid) must not make the whole file unreadable.
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    /// <summary>The state folder used when none is given: $DFS_STATE_DIR, else ~/.local/share/dfs.</summary>
    public static string DefaultStateDirectory =>
        Environment.GetEnvironmentVariable("DFS_STATE_DIR") is { Length: > 0 } dir
            ? dir
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "dfs");

    /// <summary>Where the file of <paramref name="stateDirectory"/> is.</summary>
    public static string PathIn(string stateDirectory) => Path.Combine(stateDirectory, FileName);

    /// <summary>The file, or null when it is missing, unreadable or damaged (<see cref="Read"/> tells which).</summary>
    public static ClusterFile? TryRead(string stateDirectory)
    {
        try { return Read(stateDirectory); }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>
    /// The file, or null when there is none. Throws <see cref="JsonException"/> when it is not a JSON object, and
    /// IOException or UnauthorizedAccessException when it cannot be read. Absent strings read as "" and an absent
    /// resource list as empty, so callers need not guard against a writer that leaves a field out.
    /// </summary>
    public static ClusterFile? Read(string stateDirectory)
    {
        string text;
        try { text = File.ReadAllText(PathIn(stateDirectory)); }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        var file = JsonSerializer.Deserialize<ClusterFile>(text, Json) ?? throw new JsonException($"{FileName} holds null");
        // System.Text.Json leaves constructor parameters that the JSON lacks null, whatever their declared nullability.
        return file with
        {
            Profile = file.Profile ?? "",
            Gateway = file.Gateway ?? "",
            Resources = [.. (file.Resources ?? []).OfType<ClusterResource>().Select(r => r with
            {
                Name = r.Name ?? "",
                Kind = r.Kind ?? "",
                State = r.State ?? "",
            })],
        };
    }

    /// <summary>
    /// Writes atomically (temp file + rename) so a reader never sees half a file; readable by its owner only,
    /// since it may hold the dashboard's token.
    /// </summary>
    public void Write(string stateDirectory)
    {
        Directory.CreateDirectory(stateDirectory);
        var path = PathIn(stateDirectory);
        var temp = path + ".tmp";
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
            JsonSerializer.Serialize(stream, this, Json);
        File.Move(temp, path, overwrite: true);
    }
}

/// <param name="Kind">One of <see cref="ResourceKinds"/> (a newer AppHost may add kinds).</param>
/// <param name="State">The resource's state as the AppHost words it: Aspire's state strings (<see cref="ResourceStates"/>).</param>
public sealed record ClusterResource(string Name, string Kind, int? Pid, string? Url, string State);

/// <summary>Resource kinds as they appear in cluster.json.</summary>
public static class ResourceKinds
{
    public const string Postgres = "postgres";
    public const string RabbitMq = "rabbitmq";
    public const string Redis = "redis";
    public const string Epmd = "epmd";
    public const string Gateway = "gateway";
    public const string StorageNode = "storage-node";
    public const string Replicator = "replicator";
}

/// <summary>
/// Resource states in cluster.json: Aspire's state strings (the home-made AppHost wrote them in lower case, so
/// comparisons ignore case).
/// </summary>
public static class ResourceStates
{
    public const string Running = "Running";
    public const string Starting = "Starting";
    public const string Waiting = "Waiting";
    public const string NotStarted = "NotStarted";
    public const string Stopping = "Stopping";
    public const string Finished = "Finished";
    public const string Exited = "Exited";
    public const string FailedToStart = "FailedToStart";
    public const string RuntimeUnhealthy = "RuntimeUnhealthy";

    public static bool Is(string? state, string expected) => string.Equals(state, expected, StringComparison.OrdinalIgnoreCase);

    public static bool IsRunning(string? state) => Is(state, Running);

    /// <summary>Ended or never able to run: worth a look (a one-shot resource that finished is not among them).</summary>
    public static bool IsFailed(string? state) =>
        Is(state, Exited) || Is(state, FailedToStart) || Is(state, RuntimeUnhealthy) || Is(state, "failed") || Is(state, "exited");
}
