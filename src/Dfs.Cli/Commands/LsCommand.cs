using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Spectre.Console;

namespace Dfs.Cli.Commands;

internal static class LsCommand
{
    public static Command Create(CliSession session)
    {
        var path = new Argument<string?>("path") { Description = "Folder or file (default: the current folder).", Arity = ArgumentArity.ZeroOrOne };
        var recursive = new Option<bool>("--recursive", "-R") { Description = "List sub-folders too." };
        var json = new Option<bool>("--json") { Description = "Print a JSON array of entries (EntryInfo)." };

        var command = new Command("ls", "List a folder: kind, size, modification time, name.") { path, recursive, json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var target = session.ResolveRemote(parse.GetValue(path));
            var start = await Listing.StatEntryAsync(session, client, target, ct);
            var asJson = parse.GetValue(json);

            if (start.Kind == EntryKind.File)
            {
                if (asJson) session.Output.WriteJson(new[] { start });
                else session.Output.Render(Table([start]));
                return ExitCodes.Ok;
            }

            var all = new List<EntryInfo>();
            var pending = new Stack<string>([target]);
            var first = true;
            while (pending.TryPop(out var folder))
            {
                var entries = await Listing.ReadAsync(session, client, folder, ct);
                if (asJson) all.AddRange(entries);
                else Print(session, folder, entries, header: parse.GetValue(recursive), first);
                first = false;
                if (!parse.GetValue(recursive)) break;
                foreach (var sub in entries.Where(e => e.Kind == EntryKind.Directory).Reverse()) pending.Push(sub.Path);
            }
            if (asJson) session.Output.WriteJson(all);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(CliSession session, string folder, List<EntryInfo> entries, bool header, bool first)
    {
        if (header)
        {
            if (!first) session.Output.Line("");
            session.Output.Line($"{folder}:");
        }
        if (entries.Count == 0)
        {
            if (!header) session.Output.Line("(empty)");
            return;
        }
        session.Output.Render(Table(entries));
    }

    private static Table Table(IEnumerable<EntryInfo> entries)
    {
        var table = new Table().Border(TableBorder.None).HideHeaders()
            .AddColumn(new TableColumn("kind").NoWrap())
            .AddColumn(new TableColumn("size").RightAligned().NoWrap())
            .AddColumn(new TableColumn("modified").NoWrap())
            .AddColumn(new TableColumn("name"));
        foreach (var entry in entries)
        {
            var directory = entry.Kind == EntryKind.Directory;
            table.AddRow(
                new Text(directory ? "d" : "-"),
                new Text(directory ? "" : Formatting.Size(entry.Size)),
                new Text(entry.ModifiedAt == default ? "" : Formatting.Timestamp(entry.ModifiedAt)),
                new Text(directory ? entry.Name + "/" : entry.Name, directory ? new Style(Color.Blue, decoration: Decoration.Bold) : Style.Plain));
        }
        return table;
    }
}
