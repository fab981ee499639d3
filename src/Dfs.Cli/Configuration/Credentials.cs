using System.Net.Http.Headers;
using Dfs.Cli.Output;
using Dfs.Contracts.Clients;

namespace Dfs.Cli.Configuration;

/// <summary>
/// The credential a gateway request carries, and where it came from (for messages).
/// <see cref="Note"/> explains a credential that was found but not used (an expired saved token).
/// </summary>
public sealed record GatewayCredential(AuthenticationHeaderValue? Authorization, string Source, string? User, DateTime? ExpiresAt = null, string? Note = null)
{
    public static GatewayCredential None { get; } = new(null, "none", null);
}

/// <summary>Picks the credential: $DFS_TOKEN (Bearer), then $DFS_USER + $DFS_PASSWORD (Basic), then the token `dfs login` saved for the gateway.</summary>
public static class Credentials
{
    public const string TokenVariable = "DFS_TOKEN";
    public const string UserVariable = "DFS_USER";
    public const string PasswordVariable = "DFS_PASSWORD";

    public static GatewayCredential Resolve(Uri gateway, Func<string, string?> environment, CredentialStore store, DateTimeOffset now)
    {
        if (environment(TokenVariable) is { } token && !string.IsNullOrWhiteSpace(token))
            return new(GatewayCredentials.Bearer(token.Trim()), TokenVariable, null);

        if (environment(UserVariable) is { Length: > 0 } user && environment(PasswordVariable) is { Length: > 0 } password)
            return new(GatewayCredentials.Basic(user, password), $"{UserVariable}/{PasswordVariable}", user);

        if (store.Get(gateway) is { } saved)
        {
            var expires = DateTime.SpecifyKind(saved.ExpiresAt, saved.ExpiresAt.Kind == DateTimeKind.Unspecified ? DateTimeKind.Utc : saved.ExpiresAt.Kind).ToUniversalTime();
            // An expired token would only earn a 401; not sending it lets the message say why.
            if (expires <= now.UtcDateTime)
                return GatewayCredential.None with
                {
                    Note = $"the token `dfs login` saved for {saved.User} expired at {Formatting.Timestamp(expires)}",
                };
            return new(GatewayCredentials.Bearer(saved.Token), $"the token saved by `dfs login` ({store.FilePath})", saved.User, expires);
        }
        return GatewayCredential.None;
    }
}
