using Dfs.Contracts.Clients;
using System.CommandLine;
using Dfs.Contracts.Paths;

namespace Dfs.Cli.Commands;

/// <summary>mkdir, mv and rm: metadata-only changes of the namespace.</summary>
internal static class NamespaceCommands
{
    public static Command Mkdir(CliSession session)
    {
        var path = new Argument<string>("path") { Description = "Folder to create." };
        var parents = new Option<bool>("--parents", "-p") { Description = "Create missing parent folders; no error if it exists." };

        var command = new Command("mkdir", "Create a folder.") { path, parents };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var target = session.ResolveRemote(parse.GetValue(path));
            if (parse.GetValue(parents))
                await session.RetryAsync(c => client.MkdirAsync(target, parents: true, c), ct); // idempotent, so safe to retry
            else
                await client.MkdirAsync(target, parents: false, ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Move(CliSession session)
    {
        var from = new Argument<string>("from") { Description = "File or folder to move or rename." };
        var to = new Argument<string>("to") { Description = "New path; an existing folder (or a path ending in '/') receives it under its name." };

        var command = new Command("mv", "Move or rename a file or folder.") { from, to };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var source = session.ResolveRemote(parse.GetValue(from));
            if (source == DfsPath.Root) throw new CliException(ExitCodes.Usage, "cannot move the root folder");
            var target = await session.ResolveTargetAsync(client, parse.GetValue(to), DfsPath.Name(source), ct);
            var moved = await client.MoveAsync(source, target, ct);
            session.Output.Line($"moved {source} to {moved.Path}");
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Remove(CliSession session)
    {
        var path = new Argument<string>("path") { Description = "File or folder to delete." };
        var recursive = new Option<bool>("--recursive", "-r") { Description = "Delete a folder with everything in it." };

        var command = new Command("rm", "Delete a file, or a folder (empty, or with -r).") { path, recursive };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var target = session.ResolveRemote(parse.GetValue(path));
            if (target == DfsPath.Root) throw new CliException(ExitCodes.Usage, "refusing to delete the root folder");
            await client.DeleteAsync(target, parse.GetValue(recursive), ct);
            return ExitCodes.Ok;
        });
        return command;
    }
}
