using System.Text.Json;

namespace Dfs.Contracts.Clients;

public static class DfsJson
{
    /// <summary>camelCase web defaults, the same the ASP.NET Core services use.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
