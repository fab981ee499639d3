using Dfs.Contracts.Api;
using Dfs.Gateway.Http;
using Microsoft.AspNetCore.Mvc;

namespace Dfs.Gateway.Auth;

/// <summary>/api/users: user management, for admins only.</summary>
public static class UserEndpoints
{
    public static RouteGroupBuilder MapUserEndpoints(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").RequireAuthorization(AuthExtensions.AdminPolicy);

        users.MapGet("", async (UserService service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(ct)))
            .WithName("ListUsers").WithSummary("Every user with quota and usage.")
            .Produces<List<UserInfo>>().ProducesProblem(StatusCodes.Status403Forbidden);

        users.MapPost("", async ([FromBody] CreateUserRequest? request, UserService service, CancellationToken ct) =>
            {
                if (request?.Name is null) throw DfsProblemException.BadRequest("Invalid user", "The body must be JSON with at least {\"name\": \"…\"}.");
                var (user, generated) = await service.CreateAsync(request.Name, request.Password, request.IsAdmin ?? false, request.QuotaBytes, ct);
                var info = await service.InfoAsync(user, ct);
                return TypedResults.Created(ApiRoutes.User(user.Name),
                    new UserCreated(info.Name, info.IsAdmin, info.Home, info.QuotaBytes, info.UsedBytes, info.CreatedAt, generated));
            })
            .WithName("CreateUser").WithSummary("Creates a user and their home; without a password one is generated and returned once.")
            .Produces<UserCreated>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status409Conflict);

        users.MapPatch("/{name}", async (string name, [FromBody] UpdateUserRequest? request, UserService service, CancellationToken ct) =>
            {
                if (request is null) throw DfsProblemException.BadRequest("Invalid update", "The body must be JSON: {\"password\"?, \"isAdmin\"?, \"quotaBytes\"?, \"clearQuota\"?}.");
                return TypedResults.Ok(await service.InfoAsync(await service.UpdateAsync(name, request, ct), ct));
            })
            .WithName("UpdateUser").WithSummary("Changes a user's password, admin role or quota; the last admin cannot be demoted.")
            .Produces<UserInfo>().ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        users.MapDelete("/{name}", async (string name, UserService service, CancellationToken ct) =>
            {
                await service.DeleteAsync(name, ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteUser").WithSummary("Deletes a user, their tokens, access keys and shares to and from them; their files stay. Not the last admin.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }
}
