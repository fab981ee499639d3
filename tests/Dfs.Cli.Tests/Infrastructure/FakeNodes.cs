using Dfs.Contracts.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Dfs.Cli.Tests.Infrastructure;

/// <summary>
/// The gateway's node routes (list, drain, drain status, cancel drain, remove) over scripted nodes: each status read
/// takes the next "chunks at risk" value of the node's script (the last one repeats), so a test decides how a drain
/// progresses. Requests are recorded as "METHOD what node" lines.
/// </summary>
public sealed class FakeNodes
{
    public sealed class Node(Guid id, string name, long held, long[] atRisk)
    {
        private readonly Queue<long> _atRisk = new(atRisk.Length == 0 ? [0] : atRisk);

        public Guid Id { get; } = id;
        public string Name { get; } = name;
        public long Held { get; } = held;
        public bool Draining { get; set; }
        public bool Removed { get; set; }

        /// <summary>A drain was asked for (POST), so later status reads are the CLI waiting on it.</summary>
        public bool DrainRequested { get; set; }

        /// <summary>Status reads so far (POST and GET on the drain).</summary>
        public int Reads { get; private set; }

        /// <summary>After this many reads the drain is cancelled behind the CLI's back (as by another operator); 0: never.</summary>
        public int CancelDrainAfterReads { get; set; }

        public NodeDrainStatus Read()
        {
            Reads++;
            if (CancelDrainAfterReads > 0 && Reads > CancelDrainAfterReads) Draining = false;
            var atRisk = _atRisk.Count > 1 ? _atRisk.Dequeue() : _atRisk.Peek();
            return new NodeDrainStatus(Id, Name, Draining, Held, atRisk, Draining && atRisk == 0);
        }
    }

    private readonly List<Node> _nodes = [];
    private readonly List<string> _requests = [];

    public IReadOnlyList<string> Requests
    {
        get { lock (_requests) return [.. _requests]; }
    }

    /// <summary>Completes at the first status read after a drain was asked for (the CLI is waiting).</summary>
    public TaskCompletionSource Polling { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How many removals (without force) to refuse with 409 before accepting one.</summary>
    public int RemovalConflicts { get; set; }

    /// <summary>Answer the admin-only routes (drain, cancel, remove) with 403, as for a user who is not an admin.</summary>
    public bool NotAdmin { get; set; }

    public Node Add(string name, long held, params long[] atRisk)
    {
        var node = new Node(Guid.NewGuid(), name, held, atRisk);
        _nodes.Add(node);
        return node;
    }

    public void Map(IEndpointRouteBuilder app)
    {
        app.MapGet(ApiRoutes.Nodes, () => Results.Ok(_nodes.Where(n => !n.Removed).Select(n =>
            new NodeInfo(n.Id, n.Name, $"http://127.0.0.1:1/{n.Name}", NodeStates.Live, 100, 60, 40, n.Held, DateTime.UtcNow, DateTime.UtcNow, n.Draining))));

        app.MapPost(ApiRoutes.Nodes + "/{node}/drain", (string node) => Handle("POST drain", node, admin: true, n =>
        {
            n.Draining = true;
            n.DrainRequested = true;
            return Results.Json(n.Read(), statusCode: StatusCodes.Status202Accepted);
        }));
        app.MapGet(ApiRoutes.Nodes + "/{node}/drain", (string node) => Handle("GET drain", node, admin: false, n =>
        {
            var status = n.Read();
            if (n.DrainRequested) Polling.TrySetResult();
            return Results.Ok(status);
        }));
        app.MapDelete(ApiRoutes.Nodes + "/{node}/drain", (string node) => Handle("DELETE drain", node, admin: true, n =>
        {
            n.Draining = false;
            return Results.Ok(new NodeDrainStatus(n.Id, n.Name, false, n.Held, 0, false));
        }));
        app.MapDelete(ApiRoutes.Nodes + "/{node}", (string node, string? force) => Handle($"DELETE node force={force}", node, admin: true, n =>
        {
            if (force != "true" && RemovalConflicts > 0)
            {
                RemovalConflicts--;
                return Results.Problem(statusCode: 409, title: "Conflict", detail: $"Node {n.Name} cannot be removed: it is still draining: 1 of its {n.Held} chunks do not yet have enough copies on other nodes.");
            }
            n.Removed = true;
            return Results.NoContent();
        }));
    }

    private IResult Handle(string what, string node, bool admin, Func<Node, IResult> work)
    {
        lock (_requests) _requests.Add($"{what} {node}");
        if (admin && NotAdmin) return Results.Problem(statusCode: 403, title: "Forbidden", detail: "Only an admin may do this.");
        var named = _nodes.Where(n => !n.Removed && (n.Id.ToString() == node || n.Name == node)).ToList();
        return named.Count switch
        {
            0 => Results.Problem(statusCode: 404, title: "Unknown node", detail: $"No storage node has the id or name '{node}'."),
            1 => work(named[0]),
            _ => Results.Problem(statusCode: 409, title: "Conflict", detail: $"Several nodes are named '{node}': use the node's id."),
        };
    }
}
