using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Spectre.Console;

namespace Dfs.Cli.Commands;

internal static class TreeCommand
{
    public static Command Create(CliSession session)
    {
        var path = new Argument<string?>("path") { Description = "Folder to draw (default: the current folder).", Arity = ArgumentArity.ZeroOrOne };

        var command = new Command("tree", "Draw the folder tree below a path.") { path };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var target = session.ResolveRemote(parse.GetValue(path));
            var start = await Listing.StatEntryAsync(session, client, target, ct);
            var tree = new Tree(new Text(target, DirectoryStyle));
            var counts = new Counts();
            if (start.Kind == EntryKind.Directory) await AddChildrenAsync(session, client, tree, target, counts, ct);
            else counts.Files++;
            session.Output.Render(tree);
            session.Output.Line($"{counts.Directories} folder(s), {counts.Files} file(s), {Formatting.Size(counts.Bytes)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static readonly Style DirectoryStyle = new(Color.Blue, decoration: Decoration.Bold);

    private sealed class Counts
    {
        public int Directories;
        public int Files;
        public long Bytes;
    }

    private static async Task AddChildrenAsync(CliSession session, IGatewayApi client, IHasTreeNodes parent, string folder, Counts counts, CancellationToken ct)
    {
        foreach (var entry in await Listing.ReadAsync(session, client, folder, ct))
        {
            if (entry.Kind == EntryKind.Directory)
            {
                counts.Directories++;
                var node = parent.AddNode(new Text(entry.Name + "/", DirectoryStyle));
                await AddChildrenAsync(session, client, node, entry.Path, counts, ct);
            }
            else
            {
                counts.Files++;
                counts.Bytes += entry.Size;
                parent.AddNode(new Text($"{entry.Name} ({Formatting.Size(entry.Size)})"));
            }
        }
    }
}
