using System.CommandLine;
using System.Globalization;
using System.Net;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>
/// `dfs nodes`: the storage nodes, and taking one out of the cluster through the gateway's drain and removal API
/// (like decommissioning an HDFS datanode: its chunks get their copies elsewhere first, then it is forgotten and
/// its process stops by itself at its next heartbeat).
/// </summary>
internal static class NodesCommand
{
    public static Command Create(CliSession session)
    {
        var json = new Option<bool>("--json") { Description = "Print the nodes (NodeInfo) as JSON." };

        var command = new Command("nodes", "List the storage nodes (state, address, space used, chunks, last heartbeat); drain, undrain or remove one.") { json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var nodes = await session.RetryAsync(c => client.GetNodesAsync(c), ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(nodes);
                return ExitCodes.Ok;
            }
            if (nodes.Count == 0)
            {
                session.Output.Line("no storage nodes registered");
                return ExitCodes.Ok;
            }

            var now = session.Env.Time.GetUtcNow();
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("name")
                .AddColumn("state")
                .AddColumn("url")
                .AddColumn("used")
                .AddColumn(new TableColumn("chunks").RightAligned())
                .AddColumn("heartbeat");
            foreach (var node in nodes.OrderBy(n => n.Name, StringComparer.Ordinal))
            {
                var fraction = node.CapacityBytes > 0 ? (double)node.UsedBytes / node.CapacityBytes : 0;
                var used = node.CapacityBytes > 0
                    ? $"{Formatting.Bar(fraction)} {Formatting.Size(node.UsedBytes)} / {Formatting.Size(node.CapacityBytes)} ({(fraction * 100).ToString("0", CultureInfo.InvariantCulture)}%)"
                    : $"{Formatting.Size(node.UsedBytes)} / ?";
                table.AddRow(
                    new Text(node.Name),
                    new Markup($"[{StatCommand.StateColor(node.State)}]{Markup.Escape(node.State)}[/]{(node.Draining ? ", [yellow]draining[/]" : "")}"),
                    new Text(node.Url),
                    new Text(used),
                    new Text(node.ChunkCount.ToString()),
                    new Text(Formatting.Age(node.LastHeartbeatAt, now)));
            }
            session.Output.Render(table);
            var live = nodes.Count(n => n.State == NodeStates.Live);
            var draining = nodes.Count(n => n.Draining);
            session.Output.Line($"{live} of {nodes.Count} node(s) live{(draining > 0 ? $", {draining} draining" : "")}");
            return ExitCodes.Ok;
        });
        command.Add(Drain(session));
        command.Add(Undrain(session));
        command.Add(Remove(session));
        return command;
    }

    private static Argument<string> NodeArgument() => new("name") { Description = "The storage node: its name (e.g. node-3) or id, as `dfs nodes` lists it." };

    private static Command Drain(CliSession session)
    {
        var name = NodeArgument();
        var wait = new Option<bool>("--wait")
        {
            Description = "Wait until the node is drained, with progress on stderr (Ctrl+C stops waiting; the drain goes on).",
        };
        var command = new Command("drain", "Start draining a storage node: it takes no new chunks, and the Replicator copies its chunks to the other nodes.")
        {
            name, wait,
        };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var node = parse.GetValue(name)!;
            // Idempotent on the gateway, so a retried request cannot start anything twice.
            var status = await session.RetryAsync(c => client.DrainNodeAsync(node, c), ct);
            if (parse.GetValue(wait))
            {
                try
                {
                    status = await WaitUntilDrainedAsync(session, client, status, ct);
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    throw new CliException(ExitCodes.Canceled,
                        $"canceled: stopped waiting; {status.Name} goes on draining (`dfs nodes undrain {status.Name}` cancels the drain)");
                }
            }
            session.Output.Line(status.Drained
                ? $"{status.Name} is drained: each of its {status.ChunksHeld} chunk(s) has enough copies on other nodes; `dfs nodes remove {status.Name}` removes it"
                : $"{status.Name} is draining: {Progress(status)} (`dfs nodes drain {status.Name} --wait` follows it)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Undrain(CliSession session)
    {
        var name = NodeArgument();
        var command = new Command("undrain", "Cancel a node's drain: it takes new chunks again and its copies count again.") { name };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var node = parse.GetValue(name)!;
            var status = await session.RetryAsync(c => client.CancelDrainAsync(node, c), ct);
            session.Output.Line($"{status.Name} is not draining: it takes new chunks again and its copies count again");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove(CliSession session)
    {
        var name = NodeArgument();
        var force = new Option<bool>("--force")
        {
            Description = "Remove at once, without draining: chunks it held lose that copy (the Replicator copies them again from the copies that remain).",
        };
        var command = new Command("remove",
            "Drain a storage node (progress on stderr), then remove it through the gateway; its process then stops by itself. "
            + "Ctrl+C while waiting cancels the drain this command started.")
        {
            name, force,
        };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var before = await session.RetryAsync(c => client.GetDrainStatusAsync(parse.GetValue(name)!, c), ct);
            // By id from here on: the name may be taken by another node (one that came back with a new id) meanwhile.
            var id = before.NodeId.ToString();
            if (parse.GetValue(force))
            {
                await client.RemoveNodeAsync(id, force: true, ct);
                session.Output.Line(before.ChunksAtRisk == 0
                    ? $"{before.Name} removed; each of its {before.ChunksHeld} chunk(s) had enough copies on other nodes. {ProcessStops}"
                    : $"{before.Name} removed without draining: {before.ChunksAtRisk} of its {before.ChunksHeld} chunk(s) now lack copies, "
                      + $"which the Replicator makes again from the copies that remain. {ProcessStops}");
                return ExitCodes.Ok;
            }

            try
            {
                var status = await session.RetryAsync(c => client.DrainNodeAsync(id, c), ct);
                await RemoveOnceDrainedAsync(session, client, status, ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // A drain that was running before this command is the operator's: it stays.
                if (before.Draining)
                    throw new CliException(ExitCodes.Canceled,
                        $"canceled: {before.Name} was not removed and goes on draining, as it did before (`dfs nodes undrain {before.Name}` cancels that)");
                throw await CancelOwnDrainAsync(session, client, before);
            }
            session.Output.Line($"{before.Name} drained and removed; no chunk lost a copy. {ProcessStops}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private const string ProcessStops = "Its process stops by itself at its next heartbeat (the gateway answers it 410 Gone).";

    /// <summary>
    /// Waits until drained, then removes. The gateway refuses (409) a node that stopped being drained in the meantime,
    /// e.g. another holder of one of its chunks missed heartbeats: then the wait starts over.
    /// </summary>
    private static async Task RemoveOnceDrainedAsync(CliSession session, IGatewayApi client, NodeDrainStatus status, CancellationToken ct)
    {
        var id = status.NodeId.ToString();
        while (true)
        {
            status = await WaitUntilDrainedAsync(session, client, status, ct);
            try
            {
                await client.RemoveNodeAsync(id, force: false, ct);
                return;
            }
            catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                session.Output.Error($"{status.Name}: not removable yet ({ErrorReporter.Describe(e)}); waiting");
                await Task.Delay(session.Env.PollInterval, session.Env.Time, ct);
                status = await session.RetryAsync(c => client.GetDrainStatusAsync(id, c), ct);
            }
        }
    }

    /// <summary>Ctrl+C during `nodes remove`: the drain it started is undone, so the node takes chunks again; returns what to report.</summary>
    private static async Task<CliException> CancelOwnDrainAsync(CliSession session, IGatewayApi client, NodeDrainStatus before)
    {
        try
        {
            // The command's token is already cancelled; this last request gets its own short budget.
            using var budget = new CancellationTokenSource(session.Env.Retry.RequestTimeout);
            await client.CancelDrainAsync(before.NodeId.ToString(), budget.Token);
        }
        catch (Exception e)
        {
            return new CliException(ExitCodes.Canceled,
                $"canceled: {before.Name} was not removed, but cancelling its drain failed ({ErrorReporter.Describe(e)}): run `dfs nodes undrain {before.Name}`", e);
        }
        return new CliException(ExitCodes.Canceled, $"canceled: {before.Name} was not removed; its drain was cancelled and it takes new chunks again");
    }

    /// <summary>Polls until the node is drained, writing a progress line to stderr whenever the count changes.</summary>
    private static async Task<NodeDrainStatus> WaitUntilDrainedAsync(CliSession session, IGatewayApi client, NodeDrainStatus status, CancellationToken ct)
    {
        string? shown = null;
        while (!status.Drained)
        {
            if (!status.Draining)
                throw new CliException(ExitCodes.Conflict, $"{status.Name} is no longer draining: its drain was cancelled (e.g. by `dfs nodes undrain`)");
            var line = $"{status.Name}: draining, {Progress(status)}";
            if (line != shown) session.Output.Error(line);
            shown = line;
            await Task.Delay(session.Env.PollInterval, session.Env.Time, ct);
            status = await session.RetryAsync(c => client.GetDrainStatusAsync(status.NodeId.ToString(), c), ct);
        }
        return status;
    }

    private static string Progress(NodeDrainStatus status) =>
        $"{status.ChunksAtRisk} of its {status.ChunksHeld} chunk(s) still without enough copies on other nodes";
}
