namespace Dfs.AppHost.Resources;

/// <summary>A resource that others reach through a connection string (ConnectionStrings__NAME), as in Aspire.</summary>
public interface IResourceWithConnectionString
{
    string ConnectionStringName { get; }

    /// <summary>Null until the resource knows its address (before its first start).</summary>
    string? GetConnectionString();
}
