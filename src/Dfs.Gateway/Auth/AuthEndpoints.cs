using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

/// <summary>/api/auth: tokens, whoami and the caller's own password.</summary>
public static class AuthEndpoints
{
    public static RouteGroupBuilder MapAuthEndpoints(this RouteGroupBuilder api)
    {
        var auth = api.MapGroup("/auth").WithTags("Auth");

        auth.MapPost("/tokens", async ([FromBody] CreateTokenRequest? request, HttpContext context, TokenService tokens, CancellationToken ct) =>
            {
                var created = await tokens.CreateAsync(context.GetCaller(), request, ct);
                return TypedResults.Created($"{ApiRoutes.AuthTokens}/{created.Id}", created);
            })
            .WithName("CreateToken")
            .WithSummary("Issues a bearer token for the caller (Basic or bearer); the token is shown only in this answer.")
            .Produces<TokenCreated>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest);

        auth.MapGet("/tokens", async (HttpContext context, TokenService tokens, CancellationToken ct) =>
                TypedResults.Ok(await tokens.ListAsync(context.GetCaller(), ct)))
            .WithName("ListTokens").WithSummary("The caller's tokens, revoked and expired ones included.")
            .Produces<List<TokenInfo>>();

        auth.MapDelete("/tokens/current", async (HttpContext context, TokenService tokens, CancellationToken ct) =>
            {
                var caller = context.GetCaller();
                if (caller.TokenId is not { } id)
                    throw DfsProblemException.BadRequest("No token", "This request was authenticated with Basic, not a bearer token: there is no current token to revoke.");
                await tokens.RevokeAsync(caller, id, ct);
                return TypedResults.NoContent();
            })
            .WithName("RevokeCurrentToken").WithSummary("Revokes the bearer token this request carries (logout).")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status400BadRequest);

        auth.MapDelete("/tokens/{id:guid}", async (Guid id, HttpContext context, TokenService tokens, CancellationToken ct) =>
            {
                await tokens.RevokeAsync(context.GetCaller(), id, ct);
                return TypedResults.NoContent();
            })
            .WithName("RevokeToken").WithSummary("Revokes one of the caller's tokens (an admin: anyone's).")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        auth.MapGet("/whoami", async (HttpContext context, MetadataDbContext db, CancellationToken ct) =>
            {
                var caller = context.GetCaller();
                var quota = await db.Users.Where(u => u.Id == caller.Id).Select(u => u.QuotaBytes).FirstOrDefaultAsync(ct);
                return TypedResults.Ok(new WhoAmI(caller.Name, caller.IsAdmin, caller.Home, quota, await Quotas.UsedBytesAsync(db, caller.Name, ct)));
            })
            .WithName("WhoAmI").WithSummary("The caller: name, admin or not, home, quota and usage.")
            .Produces<WhoAmI>();

        auth.MapPost("/password", async ([FromBody] ChangePasswordRequest? request, HttpContext context, MetadataDbContext db,
                PasswordHasher hasher, UserService users, CancellationToken ct) =>
            {
                if (request?.CurrentPassword is null || request.NewPassword is null)
                    throw DfsProblemException.BadRequest("Invalid password change", "The body must be JSON: {\"currentPassword\": \"…\", \"newPassword\": \"…\"}.");
                var caller = context.GetCaller();
                var stored = await db.Users.Where(u => u.Id == caller.Id).Select(u => u.PasswordHash).FirstOrDefaultAsync(ct);
                if (!hasher.Verify(request.CurrentPassword, stored))
                    throw DfsProblemException.BadRequest("Wrong password", "currentPassword is not your current password.");
                await users.SetPasswordAsync(caller.Id, request.NewPassword, ct);
                return TypedResults.NoContent();
            })
            .WithName("ChangePassword").WithSummary("Changes the caller's own password; their tokens stay valid.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status400BadRequest);
        return api;
    }
}
