using System.Security.Claims;

namespace Dfs.Gateway.Auth;

/// <summary>The authenticated user of a request; <see cref="TokenId"/> is set when a bearer token was used.</summary>
public sealed record Caller(Guid Id, string Name, bool IsAdmin, Guid? TokenId)
{
    public const string AdminRole = "admin";
    private const string TokenClaim = "dfs:token";

    public string Home => UserNames.Home(Name);

    public ClaimsPrincipal ToPrincipal(string scheme)
    {
        var claims = new List<Claim> { new(ClaimTypes.NameIdentifier, Id.ToString()), new(ClaimTypes.Name, Name) };
        if (IsAdmin) claims.Add(new Claim(ClaimTypes.Role, AdminRole));
        if (TokenId is { } token) claims.Add(new Claim(TokenClaim, token.ToString()));
        return new ClaimsPrincipal(new ClaimsIdentity(claims, scheme, ClaimTypes.Name, ClaimTypes.Role));
    }

    public static Caller? FromPrincipal(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true
            || !Guid.TryParse(principal.FindFirstValue(ClaimTypes.NameIdentifier), out var id)
            || principal.Identity.Name is not { } name)
            return null;
        Guid? token = Guid.TryParse(principal.FindFirstValue(TokenClaim), out var t) ? t : null;
        return new Caller(id, name, principal.IsInRole(AdminRole), token);
    }
}

public static class CallerExtensions
{
    /// <summary>The request's user; endpoints under /api require authentication, so there always is one.</summary>
    public static Caller GetCaller(this HttpContext context) =>
        context.Items[typeof(Caller)] as Caller
        ?? (Caller.FromPrincipal(context.User) is { } caller ? (Caller)(context.Items[typeof(Caller)] = caller) : null)
        ?? throw new InvalidOperationException("The request is not authenticated: the endpoint must require authorization.");
}
