using System.CommandLine;
using System.Globalization;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Spectre.Console;

namespace Dfs.Cli.Commands;

internal static class NodesCommand
{
    public static Command Create(CliSession session)
    {
        var json = new Option<bool>("--json") { Description = "Print the nodes (NodeInfo) as JSON." };

        var command = new Command("nodes", "List the storage nodes: state, address, space used, chunks, last heartbeat.") { json };
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
                    new Markup($"[{StatCommand.StateColor(node.State)}]{Markup.Escape(node.State)}[/]"),
                    new Text(node.Url),
                    new Text(used),
                    new Text(node.ChunkCount.ToString()),
                    new Text(Formatting.Age(node.LastHeartbeatAt, now)));
            }
            session.Output.Render(table);
            var live = nodes.Count(n => n.State == NodeStates.Live);
            session.Output.Line($"{live} of {nodes.Count} node(s) live");
            return ExitCodes.Ok;
        });
        return command;
    }
}
