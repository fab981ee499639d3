using Dfs.Contracts.Api;
using Dfs.Gateway.Data;
using Dfs.Gateway.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace Dfs.Gateway.Auth;

/// <summary>/api/shares: an owner (or an admin) grants another user read or read-write access to a path and below.</summary>
public static class ShareEndpoints
{
    public static RouteGroupBuilder MapShareEndpoints(this RouteGroupBuilder api)
    {
        var shares = api.MapGroup("/shares").WithTags("Shares");

        shares.MapGet("", async (string? all, HttpContext context, MetadataDbContext db, CancellationToken ct) =>
            {
                var caller = context.GetCaller();
                var everything = QueryValues.ParseBool(all, "all");
                if (everything && !caller.IsAdmin)
                    throw new DfsProblemException(StatusCodes.Status403Forbidden, "Forbidden", "Only an admin may list every share (all=true).");
                var rows = await QueryAsync(db, everything ? null : caller.Id, ct);
                var given = everything ? rows : rows.Where(s => s.OwnerId == caller.Id).ToList();
                var received = rows.Where(s => s.GranteeId == caller.Id).ToList();
                return TypedResults.Ok(new ShareList(given.Select(s => s.Info).ToList(), received.Select(s => s.Info).ToList()));
            })
            .WithName("ListShares").WithSummary("Shares the caller gave and received; admins may ask all=true for every share (as given).")
            .Produces<ShareList>().ProducesProblem(StatusCodes.Status403Forbidden);

        shares.MapPost("", async ([FromBody] CreateShareRequest? request, HttpContext context, MetadataDbContext db, TimeProvider clock, CancellationToken ct) =>
            {
                if (request?.Path is null || request.User is null || request.Access is null)
                    throw DfsProblemException.BadRequest("Invalid share", "The body must be JSON: {\"path\": \"/home/me/x\", \"user\": \"name\", \"access\": \"read|readwrite\"}.");
                if (!ShareAccess.IsValid(request.Access))
                    throw DfsProblemException.BadRequest("Invalid access", $"access must be {ShareAccess.Read} or {ShareAccess.ReadWrite}, not '{request.Access}'.");
                var path = PathBinding.FromBody(request.Path, "path");
                var caller = context.GetCaller();
                var owner = UserNames.OwnerOf(path);
                if (!caller.IsAdmin && owner != caller.Name)
                    throw new DfsProblemException(StatusCodes.Status403Forbidden, "Forbidden", $"You may not share {path}: you do not own it.");
                var grantee = await db.Users.FirstOrDefaultAsync(u => u.Name == request.User, ct) ?? throw UserService.UnknownUser(request.User);
                if (grantee.Id == caller.Id || grantee.Name == owner)
                    throw DfsProblemException.BadRequest("Invalid share", $"{grantee.Name} owns {path} already.");
                // The share belongs to the path's owner when there is one, so they see and may withdraw what an admin shared.
                var ownerId = owner is not null && owner != caller.Name
                    ? await db.Users.Where(u => u.Name == owner).Select(u => (Guid?)u.Id).FirstOrDefaultAsync(ct) ?? caller.Id
                    : caller.Id;
                var (share, created) = await UpsertAsync(db, path, ownerId, grantee.Id, request.Access, clock.GetUtcNow().UtcDateTime, ct);
                var info = (await QueryAsync(db, null, ct, share)).Single().Info;
                return created ? (IResult)TypedResults.Created($"{ApiRoutes.Shares}/{share}", info) : TypedResults.Ok(info);
            })
            .WithName("CreateShare")
            .WithSummary("Shares a path the caller owns (admins: any) with a user, read or readwrite; sharing the same path with the same user again changes the access.")
            .Produces<ShareInfo>(StatusCodes.Status201Created).Produces<ShareInfo>()
            .ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);

        shares.MapDelete("/{id:guid}", async (Guid id, HttpContext context, MetadataDbContext db, CancellationToken ct) =>
            {
                var caller = context.GetCaller();
                var share = await db.Shares.FirstOrDefaultAsync(s => s.Id == id, ct);
                if (share is null || (!caller.IsAdmin && share.OwnerId != caller.Id && share.GranteeId != caller.Id))
                    throw new DfsProblemException(StatusCodes.Status404NotFound, "Not found", $"There is no share {id} of yours.");
                await db.Shares.Where(s => s.Id == id).ExecuteDeleteAsync(ct);
                return TypedResults.NoContent();
            })
            .WithName("DeleteShare").WithSummary("Withdraws a share (its owner, its grantee or an admin).")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }

    private sealed record Row(Guid OwnerId, Guid GranteeId, ShareInfo Info);

    private static async Task<List<Row>> QueryAsync(MetadataDbContext db, Guid? involving, CancellationToken ct, Guid? only = null)
    {
        var query = from s in db.Shares
                    join o in db.Users on s.OwnerId equals o.Id
                    join g in db.Users on s.GranteeId equals g.Id
                    select new { s, Owner = o.Name, Grantee = g.Name };
        if (involving is { } user) query = query.Where(x => x.s.OwnerId == user || x.s.GranteeId == user);
        if (only is { } id) query = query.Where(x => x.s.Id == id);
        var rows = await query.OrderBy(x => x.s.Path).ThenBy(x => x.Grantee).ToListAsync(ct);
        return rows.Select(x => new Row(x.s.OwnerId, x.s.GranteeId,
            new ShareInfo(x.s.Id, x.s.Path, x.Owner, x.Grantee, x.s.Access, x.s.CreatedAt))).ToList();
    }

    /// <summary>One share per (path, grantee): a repeated grant changes its access and owner.</summary>
    private static async Task<(Guid Id, bool Created)> UpsertAsync(MetadataDbContext db, string path, Guid ownerId, Guid granteeId, string access,
        DateTime now, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var existing = await db.Shares.Where(s => s.Path == path && s.GranteeId == granteeId).Select(s => (Guid?)s.Id).FirstOrDefaultAsync(ct);
            if (existing is { } id)
            {
                await db.Shares.Where(s => s.Id == id).ExecuteUpdateAsync(u => u.SetProperty(s => s.Access, access).SetProperty(s => s.OwnerId, ownerId), ct);
                return (id, false);
            }
            var share = new ShareRecord { Id = Guid.CreateVersion7(), Path = path, OwnerId = ownerId, GranteeId = granteeId, Access = access, CreatedAt = now };
            db.Shares.Add(share);
            try
            {
                await db.SaveChangesAsync(ct);
                return (share.Id, true);
            }
            catch (DbUpdateException e) when (DbErrors.IsUniqueViolation(e) && attempt < 3)
            {
                db.ChangeTracker.Clear(); // created at the same moment by another request: update that one
            }
        }
    }
}
