using Dfs.Contracts.Clients;
using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>`dfs share …`: grant another user read or read-write access to a folder or file you own.</summary>
internal static class ShareCommand
{
    public static Command Create(CliSession session)
    {
        var command = new Command("share", "Shares: give another user read or read-write access to a path you own; list and remove them.");
        command.Add(Add(session));
        command.Add(List(session));
        command.Add(Remove(session));
        return command;
    }

    private static Command Add(CliSession session)
    {
        var path = new Argument<string>("path") { Description = "A folder or file you own (your home or below; admins: any)." };
        var user = new Argument<string>("user") { Description = "The user who gets access." };
        var write = new Option<bool>("--write", "-w") { Description = "Read-write access (put, mkdir, mv, rm) instead of read-only." };
        var command = new Command("add", "Share a path and everything below it with a user: read-only, or read-write with --write.") { path, user, write };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var access = parse.GetValue(write) ? ShareAccess.ReadWrite : ShareAccess.Read;
            var share = await client.CreateShareAsync(session.ResolveRemote(parse.GetValue(path)), parse.GetValue(user)!, access, ct);
            session.Output.Line($"shared {share.Path} with {share.Grantee} ({Access(share.Access)}), id {share.Id}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(CliSession session)
    {
        var all = new Option<bool>("--all") { Description = "Every share of every user (admins)." };
        var json = new Option<bool>("--json") { Description = "Print the shares ({given, received}) as JSON." };
        var command = new Command("list", "The shares you gave and received (with --all: everyone's).") { all, json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var everything = parse.GetValue(all);
            var shares = await session.RetryAsync(c => client.ListSharesAsync(everything, c), ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(shares);
                return ExitCodes.Ok;
            }
            if (shares.Given.Count == 0 && shares.Received.Count == 0)
            {
                session.Output.Line("no shares");
                return ExitCodes.Ok;
            }
            Section(session, everything ? "all shares" : "given", shares.Given);
            Section(session, "received", shares.Received);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove(CliSession session)
    {
        var id = new Argument<Guid>("id") { Description = "The share's id, as `dfs share list` shows it." };
        var command = new Command("rm", "Remove a share (its owner, its grantee, or an admin).") { id };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var share = parse.GetValue(id);
            await session.GetClient(parse).DeleteShareAsync(share, ct);
            session.Output.Line($"removed share {share}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Section(CliSession session, string title, IReadOnlyList<ShareInfo> shares)
    {
        if (shares.Count == 0) return;
        session.Output.Line($"{title}:");
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("id").AddColumn("path").AddColumn("owner").AddColumn("grantee").AddColumn("access").AddColumn("created");
        foreach (var share in shares.OrderBy(s => s.Path, StringComparer.Ordinal).ThenBy(s => s.Grantee, StringComparer.Ordinal))
            table.AddRow(
                new Text(share.Id.ToString()), new Text(share.Path), new Text(share.Owner), new Text(share.Grantee),
                new Text(Access(share.Access)), new Text(Formatting.Timestamp(share.CreatedAt)));
        session.Output.Render(table);
    }

    private static string Access(string access) => access == ShareAccess.ReadWrite ? "read-write" : access;
}
