namespace Dfs.Contracts.Api;

/// <summary>The access a share grants: "read" (get, list, stat) or "readwrite" (also put, mkdir, delete, move).</summary>
public static class ShareAccess
{
    public const string Read = "read";
    public const string ReadWrite = "readwrite";

    public static bool IsValid(string? access) => access is Read or ReadWrite;
}

/// <summary>POST /api/auth/tokens. TtlHours 1..8760, capped by the gateway's configured lifetime; null = that lifetime.</summary>
public sealed record CreateTokenRequest(string? Name = null, int? TtlHours = null);

/// <summary>Answer to POST /api/auth/tokens (201): the token is shown only here; the gateway keeps its SHA-256 alone.</summary>
public sealed record TokenCreated(string Token, Guid Id, DateTime ExpiresAt, string User);

/// <summary>GET /api/auth/tokens: the caller's own tokens.</summary>
public sealed record TokenInfo(Guid Id, string Name, DateTime CreatedAt, DateTime ExpiresAt, bool Revoked);

/// <summary>GET /api/auth/whoami. QuotaBytes null = unlimited; UsedBytes = current file versions under Home.</summary>
public sealed record WhoAmI(string Name, bool IsAdmin, string Home, long? QuotaBytes, long UsedBytes);

/// <summary>POST /api/auth/password: changes the caller's own password (tokens stay valid).</summary>
public sealed record ChangePasswordRequest(string CurrentPassword, string NewPassword);

/// <summary>GET /api/users (admin), and the answer to PATCH /api/users/{name}.</summary>
public sealed record UserInfo(string Name, bool IsAdmin, string Home, long? QuotaBytes, long UsedBytes, DateTime CreatedAt);

/// <summary>POST /api/users (admin). Password null = the gateway generates one and returns it once.</summary>
public sealed record CreateUserRequest(string Name, string? Password = null, bool? IsAdmin = null, long? QuotaBytes = null);

/// <summary>Answer to POST /api/users (201): the user, plus the password when the gateway generated it.</summary>
public sealed record UserCreated(string Name, bool IsAdmin, string Home, long? QuotaBytes, long UsedBytes, DateTime CreatedAt, string? Password);

/// <summary>
/// PATCH /api/users/{name} (admin): only the fields given change. QuotaBytes sets a quota (≥ 0);
/// ClearQuota = true makes the user unlimited again (not together with QuotaBytes).
/// </summary>
public sealed record UpdateUserRequest(string? Password = null, bool? IsAdmin = null, long? QuotaBytes = null, bool? ClearQuota = null);

/// <summary>A grant of <see cref="Access"/> on <see cref="Path"/> and everything below it, from Owner to Grantee.</summary>
public sealed record ShareInfo(Guid Id, string Path, string Owner, string Grantee, string Access, DateTime CreatedAt);

/// <summary>GET /api/shares: shares the caller gave and received; with ?all=true (admin) Given holds every share.</summary>
public sealed record ShareList(IReadOnlyList<ShareInfo> Given, IReadOnlyList<ShareInfo> Received);

/// <summary>POST /api/shares: User is the grantee's name; Access is "read" or "readwrite" (<see cref="ShareAccess"/>).</summary>
public sealed record CreateShareRequest(string Path, string User, string Access);

/// <summary>POST /api/keys: an S3 access key for the caller, or (admin) for User; Name is a label of at most 100 characters.</summary>
public sealed record CreateAccessKeyRequest(string? Name = null, string? User = null);

/// <summary>
/// Answer to POST /api/keys (201): Id is the access key id ("DFS" and 17 base32 characters), Secret the secret access key
/// (40 letters and digits), shown only here.
/// </summary>
public sealed record AccessKeyCreated(string Id, string Secret, string User, string Name, DateTime CreatedAt);

/// <summary>GET /api/keys: an S3 access key without its secret.</summary>
public sealed record AccessKeyInfo(string Id, string User, string Name, DateTime CreatedAt, DateTime? LastUsedAt);
