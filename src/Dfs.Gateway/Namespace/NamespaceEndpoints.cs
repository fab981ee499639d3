using Dfs.Contracts.Api;
using Dfs.Gateway.Auth;
using Dfs.Gateway.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Namespace;

public static class NamespaceEndpoints
{
    public static RouteGroupBuilder MapNamespaceEndpoints(this RouteGroupBuilder api)
    {
        var tag = "Namespace";
        api.MapGet("/list/{**path}", ListAsync).WithName("List").WithTags(tag)
            .WithSummary("Lists a directory, sorted by name (byte order), in pages: pass nextCursor back as ?cursor=.")
            .Produces<ListingPage>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/list", (string? cursor, string? limit, HttpContext context, NamespaceService names, AccessControl access, IOptions<GatewayOptions> options, CancellationToken ct) =>
            ListAsync(null, cursor, limit, context, names, access, options, ct)).WithName("ListRoot").WithTags(tag).Produces<ListingPage>();

        api.MapGet("/stat/{**path}", StatAsync).WithName("Stat").WithTags(tag)
            .WithSummary("A file's size, digests, version and chunks with the nodes that hold each one; or a directory.")
            .Produces<EntryDetails>().ProducesProblem(StatusCodes.Status404NotFound);
        api.MapGet("/stat", (HttpContext context, NamespaceService names, AccessControl access, CancellationToken ct) => StatAsync(null, context, names, access, ct)).WithName("StatRoot").WithTags(tag);

        api.MapPut("/dirs/{**path}", MkdirAsync).WithName("Mkdir").WithTags(tag)
            .WithSummary("Creates a directory; parents=true creates missing parents and accepts an existing directory.")
            .Produces<EntryInfo>(StatusCodes.Status201Created).Produces<EntryInfo>()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        api.MapDelete("/entries/{**path}", DeleteAsync).WithName("Delete").WithTags(tag)
            .WithSummary("Deletes a file, an empty directory, or with recursive=true a directory and everything below it.")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        api.MapPost("/move", MoveAsync).WithName("Move").WithTags(tag)
            .WithSummary("Renames or moves a file or directory (metadata only, atomic). The destination must not exist.")
            .Produces<EntryInfo>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return api;
    }

    /// <summary>
    /// Readable directories list whole; a directory above what the caller may read (/, /home, a share's parents)
    /// lists only the children leading there; anything else is 403 before it is looked up.
    /// </summary>
    private static async Task<IResult> ListAsync(string? path, string? cursor, string? limit, HttpContext context, NamespaceService names,
        AccessControl access, IOptions<GatewayOptions> options, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.List, path);
        var max = options.Value.MaxListPageSize;
        var pageSize = options.Value.DefaultListPageSize;
        if (!string.IsNullOrEmpty(limit) && (!int.TryParse(limit, out pageSize) || pageSize < 1 || pageSize > max))
            throw DfsProblemException.BadRequest("Invalid limit", $"limit must be a whole number from 1 to {max}.");
        var caller = context.GetCaller();
        IReadOnlySet<string>? only = null;
        if (!await access.CanAsync(caller, target, Access.Read, ct))
            only = await access.LeadingChildrenAsync(caller, target, ct) ?? throw AccessControl.Forbidden(target, Access.Read);
        return TypedResults.Ok(await names.ListAsync(target, cursor, pageSize, ct, only));
    }

    private static async Task<IResult> StatAsync(string? path, HttpContext context, NamespaceService names, AccessControl access, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Stat, path);
        var caller = context.GetCaller();
        if (!await access.CanAsync(caller, target, Access.Read, ct) && await access.LeadingChildrenAsync(caller, target, ct) is null)
            throw AccessControl.Forbidden(target, Access.Read);
        return TypedResults.Ok(await names.StatAsync(target, ct));
    }

    private static async Task<IResult> MkdirAsync(string? path, string? parents, HttpContext context, NamespaceService names, AccessControl access, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Dirs, path);
        var withParents = QueryValues.ParseBool(parents, "parents");
        await access.RequireAsync(context.GetCaller(), target, Access.Write, ct);
        var (entry, created) = await names.MkdirAsync(target, withParents, ct);
        return created ? TypedResults.Created($"{ApiRoutes.Stat}/{Contracts.Paths.DfsPath.ToUrlPath(entry.Path)}", entry) : TypedResults.Ok(entry);
    }

    private static async Task<IResult> DeleteAsync(string? path, string? recursive, HttpContext context, NamespaceService names, AccessControl access,
        Messaging.EventPublisher events, CancellationToken ct)
    {
        var target = PathBinding.FromRequest(context, ApiRoutes.Entries, path);
        var withChildren = QueryValues.ParseBool(recursive, "recursive");
        await access.RequireAsync(context.GetCaller(), target, Access.Write, ct);
        var deleted = await names.DeleteAsync(target, withChildren, expected: null, ct);
        events.FilesDeleted(deleted, names.Now);
        return TypedResults.NoContent();
    }

    /// <summary>A move writes both sides: the caller needs write access to the source and to the destination.</summary>
    private static async Task<IResult> MoveAsync([FromBody] MoveRequest? request, HttpContext context, NamespaceService names, AccessControl access, CancellationToken ct)
    {
        if (request is null) throw DfsProblemException.BadRequest("Invalid move", "The body must be JSON: {\"from\": \"/a\", \"to\": \"/b\"}.");
        var from = PathBinding.FromBody(request.From, "from");
        var to = PathBinding.FromBody(request.To, "to");
        var caller = context.GetCaller();
        await access.RequireAsync(caller, from, Access.Write, ct);
        await access.RequireAsync(caller, to, Access.Write, ct);
        return TypedResults.Ok(await names.MoveAsync(from, to, ct));
    }
}
