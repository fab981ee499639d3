namespace Dfs.Contracts.Api;

/// <summary>Route prefixes of the gateway's public and internal APIs, shared by the server and the typed clients.</summary>
public static class ApiRoutes
{
    public const string Files = "/api/files";
    public const string List = "/api/list";
    public const string Stat = "/api/stat";
    public const string Dirs = "/api/dirs";
    public const string Entries = "/api/entries";
    public const string Move = "/api/move";
    public const string Nodes = "/api/nodes";
    public const string Cluster = "/api/cluster";
    public const string Gateway = "/api/gateway";
    public const string Layout = "/api/layout";

    /// <summary>/api/nodes/{node}/drain: start (POST), watch (GET) or cancel (DELETE) a node's drain; {node} is its id or name.</summary>
    public static string NodeDrain(string node) => $"{Nodes}/{Uri.EscapeDataString(node)}/drain";

    /// <summary>DELETE /api/nodes/{node}?force=: removes a node from the cluster.</summary>
    public static string Node(string node) => $"{Nodes}/{Uri.EscapeDataString(node)}";

    public const string AuthTokens = "/api/auth/tokens";
    /// <summary>DELETE: revokes the bearer token the request carries.</summary>
    public const string AuthTokensCurrent = "/api/auth/tokens/current";
    public const string WhoAmI = "/api/auth/whoami";
    public const string Password = "/api/auth/password";
    public const string Users = "/api/users";
    public const string Shares = "/api/shares";
    public const string AccessKeys = "/api/keys";

    /// <summary>DELETE /api/auth/tokens/{id}.</summary>
    public static string AuthToken(Guid id) => $"{AuthTokens}/{id}";

    /// <summary>PATCH or DELETE /api/users/{name}.</summary>
    public static string User(string name) => $"{Users}/{Uri.EscapeDataString(name)}";

    /// <summary>DELETE /api/shares/{id}.</summary>
    public static string Share(Guid id) => $"{Shares}/{id}";

    /// <summary>DELETE /api/keys/{id}: revokes an S3 access key.</summary>
    public static string AccessKey(string id) => $"{AccessKeys}/{Uri.EscapeDataString(id)}";

    public const string InternalNodes = "/internal/nodes";
    public const string InternalReplicas = "/internal/replicas";
    public const string InternalCorruptReplicas = "/internal/replicas/corrupt";
    public const string InternalReplicationWork = "/internal/replication/work";
    public const string InternalReplicationState = "/internal/replication/state";
    public const string Replication = "/api/cluster/replication";

    /// <summary>Query names.</summary>
    public const string ConflictQuery = "conflict";
    public const string ReplicationQuery = "replication";
    public const string ForceQuery = "force";

    /// <summary>Response header carrying the committed version number of a file.</summary>
    public const string VersionHeader = "X-Dfs-Version";
}
