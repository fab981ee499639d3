using Dfs.Contracts.Api;
using Microsoft.AspNetCore.Mvc;

namespace Dfs.Gateway.Auth.AccessKeys;

/// <summary>/api/keys: S3 access keys, each user's own (admins: anyone's).</summary>
public static class AccessKeyEndpoints
{
    public static RouteGroupBuilder MapAccessKeyEndpoints(this RouteGroupBuilder api)
    {
        var keys = api.MapGroup("/keys").WithTags("AccessKeys");

        keys.MapPost("", async ([FromBody] CreateAccessKeyRequest? request, HttpContext context, AccessKeyService service, CancellationToken ct) =>
            {
                var (key, secret) = await service.CreateAsync(context.GetCaller(), request?.User, request?.Name, ct);
                return TypedResults.Created(ApiRoutes.AccessKey(key.Id), new AccessKeyCreated(key.Id, secret, key.User, key.Name, key.CreatedAt));
            })
            .WithName("CreateAccessKey")
            .WithSummary("Creates an S3 access key for the caller (admins: for any user); the secret is shown only in this answer. At most 10 per user.")
            .Produces<AccessKeyCreated>(StatusCodes.Status201Created)
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        keys.MapGet("", async (string? user, HttpContext context, AccessKeyService service, CancellationToken ct) =>
                TypedResults.Ok(await service.ListAsync(context.GetCaller(), user, ct)))
            .WithName("ListAccessKeys")
            .WithSummary("The caller's access keys, without their secrets; admins: user=NAME for that user's, every user's without it.")
            .Produces<List<AccessKeyInfo>>().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);

        keys.MapDelete("/{id}", async (string id, HttpContext context, AccessKeyService service, CancellationToken ct) =>
            {
                await service.RevokeAsync(context.GetCaller(), id, ct);
                return TypedResults.NoContent();
            })
            .WithName("RevokeAccessKey").WithSummary("Revokes (deletes) one of the caller's access keys (admins: anyone's); it stops working at once.")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }
}
