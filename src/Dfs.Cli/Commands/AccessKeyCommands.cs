using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>`dfs user keys …`: S3 access keys, your own (admins: anyone's with --user).</summary>
internal static class AccessKeyCommands
{
    public static Command Create(CliSession session)
    {
        var command = new Command("keys", "S3 access keys: create (the secret is shown once), list, revoke; your own, or (admin) a user's with --user.");
        command.Add(CreateKey(session));
        command.Add(List(session));
        command.Add(Revoke(session));
        return command;
    }

    private static Command CreateKey(CliSession session)
    {
        var name = new Option<string?>("--name") { Description = "A label to tell your keys apart (at most 100 characters).", HelpName = "label" };
        var user = new Option<string?>("--user") { Description = "(admin) Create the key for this user instead of yourself.", HelpName = "name" };
        var json = new Option<bool>("--json") { Description = "Print the key (AccessKeyCreated, the secret included) as JSON." };
        var command = new Command("create", "Create an S3 access key; its secret is printed once and cannot be shown again.") { name, user, json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            // Not retried: a retry after a lost answer would make a second key whose secret nobody saw.
            var created = await session.GetClient(parse).CreateAccessKeyAsync(new CreateAccessKeyRequest(parse.GetValue(name), parse.GetValue(user)), ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(created);
                return ExitCodes.Ok;
            }
            var label = created.Name.Length > 0 ? $" \"{created.Name}\"" : "";
            session.Output.Line($"created access key{label} for {created.User}");
            session.Output.Line($"access key id:     {created.Id}");
            session.Output.Line($"secret access key: {created.Secret}");
            session.Output.Line("The secret is shown only now and cannot be shown again: keep it safe (if it is lost, revoke the key and create another).");
            session.Output.Line("Give both to your S3 client, e.g.:");
            session.Output.Line($"  aws configure set aws_access_key_id {created.Id}");
            session.Output.Line($"  aws configure set aws_secret_access_key {created.Secret}");
            session.Output.Line("and point it at the cluster's S3 endpoint (aws --endpoint-url URL …).");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command List(CliSession session)
    {
        var user = new Option<string?>("--user") { Description = "(admin) This user's keys; admins without it see every user's.", HelpName = "name" };
        var json = new Option<bool>("--json") { Description = "Print the keys (AccessKeyInfo[], no secrets) as JSON." };
        var command = new Command("list", "List access keys: id, user, name, creation and last use (never the secrets).") { user, json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var forUser = parse.GetValue(user);
            var keys = await session.RetryAsync(c => client.ListAccessKeysAsync(forUser, c), ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(keys);
                return ExitCodes.Ok;
            }
            if (keys.Count == 0)
            {
                session.Output.Line("no access keys");
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("id").AddColumn("user").AddColumn("name").AddColumn("created").AddColumn("last used");
            foreach (var key in keys)
                table.AddRow(
                    new Text(key.Id), new Text(key.User), new Text(key.Name), new Text(Formatting.Timestamp(key.CreatedAt)),
                    new Text(key.LastUsedAt is { } used ? Formatting.Timestamp(used) : ""));
            session.Output.Render(table);
            session.Output.Line($"{keys.Count} access key(s)");
            return ExitCodes.Ok;
        });
        return command;
    }

    private static Command Revoke(CliSession session)
    {
        var id = new Argument<string>("id") { Description = "The access key id, as `dfs user keys list` shows it." };
        var command = new Command("revoke", "Revoke an access key of yours (admins: anyone's); it stops working at once.") { id };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var key = parse.GetValue(id)!;
            await session.GetClient(parse).RevokeAccessKeyAsync(key, ct);
            session.Output.Line($"revoked access key {key}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
