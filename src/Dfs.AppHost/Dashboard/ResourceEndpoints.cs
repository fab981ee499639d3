using Dfs.Contracts.AppHost;
using System.Globalization;
using Dfs.AppHost.Hosting;
using Dfs.AppHost.Model;
using Dfs.AppHost.Processes;
using Dfs.AppHost.Resources;
using Dfs.Contracts.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Hosting;

namespace Dfs.AppHost.Dashboard;

/// <summary>
/// The resources API (/api/resources, /api/nodes): what runs, its output, and the actions on it. The
/// `dfs` CLI uses these routes with the Bearer token; keep them stable.
/// </summary>
internal static class ResourceEndpoints
{
    public const int DefaultLogLines = 500;
    public const int MaxLogLines = 5000;

    public static WebApplication MapResourceEndpoints(this WebApplication web)
    {
        var resources = web.MapGroup("/api/resources");
        resources.MapGet("", (DfsApplication app) =>
        {
            var now = DateTimeOffset.UtcNow;
            return TypedResults.Ok(app.Resources.Select(r => DashboardViews.Resource(r.Snapshot(), now)).ToList());
        });
        resources.MapGet("/{name}", (string name, DfsApplication app) =>
            app.Find(name) is { } resource ? Results.Ok(DashboardViews.Resource(resource.Snapshot(), DateTimeOffset.UtcNow)) : UnknownResource(name));
        resources.MapPost("/{name}/stop", (string name, DfsApplication app, IHostApplicationLifetime lifetime) =>
            ActAsync(app, name, ResourceAction.Stop, lifetime.ApplicationStopping));
        resources.MapPost("/{name}/start", (string name, DfsApplication app, IHostApplicationLifetime lifetime) =>
            ActAsync(app, name, ResourceAction.Start, lifetime.ApplicationStopping));
        resources.MapPost("/{name}/restart", (string name, DfsApplication app, IHostApplicationLifetime lifetime) =>
            ActAsync(app, name, ResourceAction.Restart, lifetime.ApplicationStopping));
        resources.MapGet("/{name}/logs", (string name, string? after, string? max, string? q, DfsApplication app) =>
        {
            if (app.Find(name) is not { } resource) return UnknownResource(name);
            if (!TryParseLogQuery(after, max, out var from, out var limit, out var error))
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid log query", detail: error);
            return Results.Ok(ReadLogs(resource, from, limit, q));
        });

        var nodes = web.MapGroup("/api/nodes");
        nodes.MapPost("", AddNodeAsync);
        nodes.MapDelete("/{name}", (string name, DfsApplication app, RemovalTracker removals) => RemoveNode(app, removals, name));
        nodes.MapGet("/{name}/removal", (string name, DfsApplication app) =>
            app.GetNodeRemoval(name) is { } removal
                ? Results.Ok(DashboardViews.Removal(removal))
                : Problem(StatusCodes.Status404NotFound, "No removal", $"No removal of '{name}' was started."));
        // The resources page shows removals next to their nodes, and those whose node is already gone.
        web.MapGet("/api/removals", (RemovalTracker removals) => TypedResults.Ok(removals.All().Select(DashboardViews.Removal).ToList()));
        return web;
    }

    /// <summary>
    /// Lines after <paramref name="after"/>; with <paramref name="q"/> only those containing it (case-insensitive),
    /// up to <paramref name="max"/>. Last is where the next poll goes on from, also when nothing matched.
    /// </summary>
    internal static OutputPage ReadLogs(ProcessResource resource, long after, int max, string? q)
    {
        if (string.IsNullOrEmpty(q)) return resource.ReadOutput(after, max);
        var matches = new List<OutputLine>();
        var cursor = after;
        while (true)
        {
            var page = resource.ReadOutput(cursor, 1000);
            if (page.Lines.Count == 0) return new OutputPage(matches, matches.Count > 0 ? Math.Max(matches[^1].Seq, page.Last) : page.Last);
            foreach (var line in page.Lines)
            {
                if (!line.Text.Contains(q, StringComparison.OrdinalIgnoreCase)) continue;
                matches.Add(line);
                if (matches.Count == max) return new OutputPage(matches, line.Seq);
            }
            cursor = page.Last;
        }
    }

    internal static bool TryParseLogQuery(string? after, string? max, out long from, out int limit, out string? error)
    {
        from = 0;
        limit = DefaultLogLines;
        error = null;
        if (!string.IsNullOrEmpty(after) && !long.TryParse(after, NumberStyles.None, CultureInfo.InvariantCulture, out from))
            error = $"after must be a whole number of 0 or more (a line's seq), not '{after}'.";
        else if (!string.IsNullOrEmpty(max) && (!int.TryParse(max, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLogLines))
            error = $"max must be a whole number from 1 to {MaxLogLines}, not '{max}'.";
        return error is null;
    }

    private enum ResourceAction { Stop, Start, Restart }

    private static async Task<IResult> ActAsync(DfsApplication app, string name, ResourceAction action, CancellationToken ct)
    {
        if (app.Find(name) is not { } resource) return UnknownResource(name);
        if (app.GetNodeRemoval(name) is { Phase: NodeRemoval.Draining or NodeRemoval.Stopping } removal)
            return Problem(StatusCodes.Status409Conflict, "Being removed", $"{name} is being removed from the cluster ({removal.Phase}).");
        if (action != ResourceAction.Stop && BlockingDependency(resource) is { } dependency)
            return Problem(StatusCodes.Status409Conflict, "Dependency not running",
                $"{name} waits for {dependency.Name}, which is {dependency.State.ToContractString()}: start {dependency.Name} first.");
        try
        {
            switch (action)
            {
                case ResourceAction.Stop:
                    await app.StopResourceAsync(name, ct);
                    break;
                case ResourceAction.Start:
                    await app.StartResourceAsync(name, ct);
                    break;
                default:
                    await app.RestartResourceAsync(name, ct);
                    break;
            }
        }
        catch (ResourceStartException e)
        {
            return Problem(StatusCodes.Status500InternalServerError, $"{name} did not start", e.Message);
        }
        catch (ObjectDisposedException)
        {
            return Problem(StatusCodes.Status409Conflict, "Shutting down", "The AppHost is shutting down.");
        }
        catch (ArgumentException)
        {
            // Removed while we were at it.
            return UnknownResource(name);
        }
        return Results.Ok(DashboardViews.Resource(resource.Snapshot(), DateTimeOffset.UtcNow));
    }

    /// <summary>A dependency that is neither running nor on its way: starting would only wait for it and time out.</summary>
    private static ProcessResource? BlockingDependency(ProcessResource resource) =>
        resource.Dependencies.FirstOrDefault(d => d.State is not (ResourceState.Running or ResourceState.Starting or ResourceState.Unhealthy));

    private static async Task<IResult> AddNodeAsync(DfsApplication app, IHostApplicationLifetime lifetime)
    {
        if (app.Find(ResourceNames.Gateway) is not { } gateway)
            return Problem(StatusCodes.Status409Conflict, "No gateway", "This application has no gateway for a storage node to join.");
        if (gateway.State is not (ResourceState.Running or ResourceState.Unhealthy))
            return Problem(StatusCodes.Status409Conflict, "Gateway not running",
                $"The gateway is {gateway.State.ToContractString()}: start it before adding a storage node.");
        try
        {
            var name = await app.AddStorageNodeAsync(lifetime.ApplicationStopping);
            return Results.Created($"/api/resources/{name}", new AddedNode(name));
        }
        catch (ResourceStartException e)
        {
            return Problem(StatusCodes.Status500InternalServerError, "The new storage node did not start", e.Message);
        }
        catch (ObjectDisposedException)
        {
            return Problem(StatusCodes.Status409Conflict, "Shutting down", "The AppHost is shutting down.");
        }
    }

    private static IResult RemoveNode(DfsApplication app, RemovalTracker removals, string name)
    {
        if (app.Find(name) is not { } resource) return UnknownResource(name);
        if (resource.Kind != ResourceKinds.StorageNode)
            return Problem(StatusCodes.Status400BadRequest, "Not a storage node", $"{name} is a {resource.Kind}; only storage nodes can be removed.");
        if (app.Find(ResourceNames.Gateway) is not { State: ResourceState.Running or ResourceState.Unhealthy })
            return Problem(StatusCodes.Status409Conflict, "Gateway not running", $"The gateway must run to drain {name} before it is removed.");
        NodeRemoval removal;
        try
        {
            removal = removals.Start(name);
        }
        catch (ObjectDisposedException)
        {
            return Problem(StatusCodes.Status409Conflict, "Shutting down", "The AppHost is shutting down.");
        }
        catch (InvalidOperationException e)
        {
            return Problem(StatusCodes.Status409Conflict, "Cannot remove the node now", e.Message);
        }
        catch (ArgumentException)
        {
            return UnknownResource(name);
        }
        return Results.Accepted($"/api/nodes/{name}/removal", DashboardViews.Removal(removal));
    }

    internal static IResult UnknownResource(string name) =>
        Problem(StatusCodes.Status404NotFound, "Unknown resource", $"There is no resource named '{name}'.");

    internal static IResult Problem(int status, string title, string detail) =>
        Results.Problem(statusCode: status, title: title, detail: detail);
}
