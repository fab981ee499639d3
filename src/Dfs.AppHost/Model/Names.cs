namespace Dfs.AppHost.Model;

public static class Profiles
{
    public const string Auto = "auto";
    public const string Local = "local";
    public const string Embedded = "embedded";
    public const string External = "external";

    public static readonly IReadOnlyList<string> All = [Auto, Local, Embedded, External];
}

/// <summary>Resource and connection names; scripts and tests rely on them.</summary>
public static class ResourceNames
{
    public const string Postgres = "postgres";
    public const string RabbitMq = "rabbitmq";
    public const string Gateway = "gateway";
    public const string Replicator = "replicator";
    public const string StorageNodePrefix = "node-";

    /// <summary>The gateway's metadata database connection (ConnectionStrings__metadata).</summary>
    public const string MetadataConnection = "metadata";

    /// <summary>The message broker (ConnectionStrings__messaging); absent means the gateway hosts the Replicator in-process.</summary>
    public const string MessagingConnection = "messaging";

    public static string StorageNode(int index) => StorageNodePrefix + index;
}

/// <summary>Names of the service projects stamped into the assembly with <see cref="ServiceProjectAttribute"/>.</summary>
public static class ServiceProjectNames
{
    public const string Gateway = "gateway";
    public const string StorageNode = "storage-node";
    public const string Replicator = "replicator";
}
