using Dfs.Contracts.Clients;
using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>`dfs user …`: user management (admins), and `passwd` and `keys` for everyone's own password and S3 access keys.</summary>
internal static class UserCommand
{
    public static Command Create(CliSession session)
    {
        var command = new Command("user", "Users: list, add, remove, set password, quota or admin role (admins; `passwd` and `keys` also for yourself).");
        command.Add(List(session));
        command.Add(Add(session));
        command.Add(Passwd(session));
        command.Add(Remove(session));
        command.Add(Quota(session));
        command.Add(Admin(session));
        command.Add(AccessKeyCommands.Create(session));
        return command;
    }

    private static Command List(CliSession session)
    {
        var json = new Option<bool>("--json") { Description = "Print the users (UserInfo[]) as JSON." };
        var command = new Command("list", "List the users: admin or not, home, quota usage, creation time.") { json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var users = await session.RetryAsync(client.ListUsersAsync, ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(users);
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("name").AddColumn("admin").AddColumn("home").AddColumn("storage").AddColumn("created");
            foreach (var user in users.OrderBy(u => u.Name, StringComparer.Ordinal))
                table.AddRow(
                    new Text(user.Name), new Text(user.IsAdmin ? "yes" : ""), new Text(user.Home),
                    new Text(AuthCommands.Usage(user.UsedBytes, user.QuotaBytes)), new Text(Formatting.Timestamp(user.CreatedAt)));
            session.Output.Render(table);
            session.Output.Line($"{users.Count} user(s), {users.Count(u => u.IsAdmin)} admin(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Add(CliSession session)
    {
        var name = new Argument<string>("name") { Description = "User name: a lower-case letter, then up to 31 of a-z 0-9 . _ -" };
        var admin = new Option<bool>("--admin") { Description = "Make the user an admin." };
        var quota = new Option<Sizes.SizeOrNone>("--quota")
        {
            Description = $"Storage quota of the user's home: {Sizes.Help} (default: none).",
            HelpName = "size",
            CustomParser = Sizes.Parse,
        };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from one line of stdin; without it the gateway generates one, printed once." };
        var command = new Command("add", "Create a user and their home folder /home/<name>.") { name, admin, quota, passwordStdin };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var password = parse.GetValue(passwordStdin) ? await Prompts.ReadLineAsync(session, "password", ct) : null;
            var client = session.GetClient(parse);
            var created = await client.CreateUserAsync(
                new CreateUserRequest(parse.GetValue(name)!, password, parse.GetValue(admin), parse.GetValue(quota).Bytes), ct);
            var role = created.IsAdmin ? "admin" : "user";
            var quotaText = created.QuotaBytes is { } q ? $"quota {Formatting.Size(q)}" : "no quota";
            session.Output.Line($"created {role} {created.Name} with home {created.Home}, {quotaText}");
            if (created.Password is { } generated)
                session.Output.Line($"password: {generated}   (shown only now; the user changes it with `dfs user passwd`)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Passwd(CliSession session)
    {
        var name = new Argument<string?>("name")
        {
            Description = "The user whose password an admin sets; without it you change your own (current password needed).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "Read from stdin instead of asking: the current password then the new one (your own), or just the new one (NAME).",
        };
        var command = new Command("passwd", "Change your own password, or (admin) set another user's.") { name, passwordStdin };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            const string NoTerminal = "no terminal to ask the passwords on: pipe them with --password-stdin";
            var fromStdin = parse.GetValue(passwordStdin);
            var client = session.GetClient(parse);
            if (parse.GetValue(name) is { } user)
            {
                var password = fromStdin
                    ? await Prompts.ReadLineAsync(session, "new password", ct)
                    : await Prompts.AskNewPasswordAsync(session, $"New password for {user}:", NoTerminal, ct);
                await client.UpdateUserAsync(user, new UpdateUserRequest(Password: password), ct);
                session.Output.Line($"password of {user} changed");
                return ExitCodes.Ok;
            }

            var current = fromStdin
                ? await Prompts.ReadLineAsync(session, "current password", ct)
                : await Prompts.AskAsync(session, "Current password:", secret: true, NoTerminal, ct);
            var next = fromStdin
                ? await Prompts.ReadLineAsync(session, "new password", ct)
                : await Prompts.AskNewPasswordAsync(session, "New password:", NoTerminal, ct);
            await client.ChangePasswordAsync(current, next, ct);
            session.Output.Line("password changed (tokens from `dfs login` stay valid)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Remove(CliSession session)
    {
        var name = new Argument<string>("name") { Description = "The user to delete." };
        var command = new Command("rm", "Delete a user, their tokens and the shares to and from them; the files in their home stay.") { name };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var user = parse.GetValue(name)!;
            await session.GetClient(parse).DeleteUserAsync(user, ct);
            session.Output.Line($"deleted user {user} (the files in /home/{user} stay)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Quota(CliSession session)
    {
        var name = new Argument<string>("name") { Description = "The user." };
        var size = new Argument<Sizes.SizeOrNone>("size")
        {
            Description = $"The new quota: {Sizes.Help}; or none for unlimited.",
            CustomParser = Sizes.Parse,
        };
        var command = new Command("quota", "Set or clear a user's storage quota (all current file versions under their home count).") { name, size };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var quota = parse.GetValue(size).Bytes;
            var request = quota is { } bytes ? new UpdateUserRequest(QuotaBytes: bytes) : new UpdateUserRequest(ClearQuota: true);
            var user = await session.GetClient(parse).UpdateUserAsync(parse.GetValue(name)!, request, ct);
            session.Output.Line($"{user.Name}: {AuthCommands.Usage(user.UsedBytes, user.QuotaBytes)}");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Admin(CliSession session)
    {
        var name = new Argument<string>("name") { Description = "The user." };
        var value = new Argument<bool>("true|false") { Description = "true makes the user an admin, false takes the role away (not from the last admin)." };
        var command = new Command("admin", "Give or take the admin role.") { name, value };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var user = await session.GetClient(parse).UpdateUserAsync(parse.GetValue(name)!, new UpdateUserRequest(IsAdmin: parse.GetValue(value)), ct);
            session.Output.Line(user.IsAdmin ? $"{user.Name} is an admin" : $"{user.Name} is not an admin");
            return ExitCodes.Ok;
        });
        return command;
    }
}
