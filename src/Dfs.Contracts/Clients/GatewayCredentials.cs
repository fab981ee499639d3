using System.Net.Http.Headers;
using System.Text;

namespace Dfs.Contracts.Clients;

/// <summary>
/// Authorization header values for the gateway. <see cref="GatewayClient"/> stays credential-agnostic: set one of
/// these as the HttpClient's DefaultRequestHeaders.Authorization.
/// </summary>
public static class GatewayCredentials
{
    /// <summary>HTTP Basic (RFC 7617) over UTF-8, as curl -u sends it.</summary>
    public static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    /// <summary>A token from POST /api/auth/tokens ("dfs_…").</summary>
    public static AuthenticationHeaderValue Bearer(string token) => new("Bearer", token);
}
