using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Spectre.Console;

namespace Dfs.Cli.Commands;

internal static class StatCommand
{
    public static Command Create(CliSession session)
    {
        var path = new Argument<string>("path") { Description = "File or folder." };
        var json = new Option<bool>("--json") { Description = "Print the details (EntryDetails) as JSON." };

        var command = new Command("stat", "Show a file's size, version, digests and chunks with the nodes holding each.") { path, json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var target = session.ResolveRemote(parse.GetValue(path));
            var details = await session.RetryAsync(c => client.StatAsync(target, c), ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(details);
                return ExitCodes.Ok;
            }

            var grid = new Grid().AddColumn(new GridColumn().NoWrap()).AddColumn();
            void Row(string name, string? value) => grid.AddRow(new Text(name, new Style(decoration: Decoration.Bold)), new Text(value ?? "-"));
            Row("path", details.Path);
            Row("kind", details.Kind == EntryKind.Directory ? "directory" : "file");
            if (details.Kind == EntryKind.File)
            {
                Row("size", $"{details.Size} bytes ({Formatting.Size(details.Size)})");
                Row("version", details.Version?.ToString());
                Row("md5", details.Md5);
                Row("sha256", details.Sha256);
                Row("chunk size", details.ChunkSize is { } chunkSize ? Formatting.Size(chunkSize) : null);
                Row("chunks", details.Chunks.Count.ToString());
            }
            Row("created", Formatting.Timestamp(details.CreatedAt));
            Row("modified", Formatting.Timestamp(details.ModifiedAt));
            session.Output.Render(grid);

            if (details.Chunks.Count > 0)
            {
                var table = new Table().Border(TableBorder.Rounded)
                    .AddColumn(new TableColumn("#").RightAligned())
                    .AddColumn("chunk")
                    .AddColumn(new TableColumn("size").RightAligned())
                    .AddColumn("nodes");
                foreach (var chunk in details.Chunks.OrderBy(c => c.Index))
                {
                    var nodes = chunk.Inline ? new Markup("[blue]inline[/] (kept in the metadata store)")
                        : chunk.Replicas.Count == 0 ? new Markup("[red]no replica[/]")
                        : new Markup(string.Join(", ", chunk.Replicas.Select(r =>
                            r.NodeState == NodeStates.Live ? Markup.Escape(r.NodeName) : $"[{StateColor(r.NodeState)}]{Markup.Escape(r.NodeName)} ({Markup.Escape(r.NodeState)})[/]")));
                    table.AddRow(new Text(chunk.Index.ToString()), new Text(Formatting.ShortId(chunk.Id)), new Text(Formatting.Size(chunk.Size)), nodes);
                }
                session.Output.Render(table);
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    public static string StateColor(string state) => state switch
    {
        NodeStates.Live => "green",
        NodeStates.Suspect => "yellow",
        _ => "red",
    };
}
