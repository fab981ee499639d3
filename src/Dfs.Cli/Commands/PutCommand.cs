using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Cli.Transfers;
using Dfs.Contracts.Api;

namespace Dfs.Cli.Commands;

internal static class PutCommand
{
    public static Command Create(CliSession session)
    {
        var local = new Argument<string>("local") { Description = "Local file to upload." };
        var remote = new Argument<string?>("remote")
        {
            Description = "Remote path. A folder (existing, or written with a trailing '/') keeps the file name. Default: the file name in the current folder.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var conflict = new Option<string>("--conflict")
        {
            Description = "When the remote file exists: fail (exit 4), overwrite (new version), or rename (store under a free name).",
            DefaultValueFactory = _ => "fail",
        };
        conflict.AcceptOnlyFromAmong("fail", "overwrite", "rename");
        var replication = new Option<int?>("--replication") { Description = "Replication factor for this file (default: the cluster's).", HelpName = "n" };
        replication.Validators.Add(result =>
        {
            // Runs even when the value did not convert (that error is reported on its own), so read the token.
            if (result.Tokens is [{ Value: var text }] && int.TryParse(text, out var factor) && factor < 1)
                result.AddError("--replication must be at least 1.");
        });
        var durability = new Option<string>("--durability")
        {
            Description = "one: done once each chunk has one fsynced copy (the Replicator makes the rest); all: done only once each chunk has " +
                          "as many fsynced copies as the replication factor (pipeline replication).",
            DefaultValueFactory = _ => "one",
        };
        durability.AcceptOnlyFromAmong("one", "all");
        var json = new Option<bool>("--json") { Description = "Print the gateway's answer (PutFileResult) as JSON." };

        var command = new Command("put", "Upload a local file.") { local, remote, conflict, replication, durability, json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var localPath = session.ResolveLocal(parse.GetValue(local)!);
            if (Directory.Exists(localPath)) throw new CliException(ExitCodes.Usage, $"{localPath} is a folder; put uploads one file");
            if (!File.Exists(localPath)) throw new CliException(ExitCodes.NotFound, $"local file not found: {localPath}");

            var client = session.GetClient(parse);
            var target = await session.ResolveTargetAsync(client, parse.GetValue(remote), Path.GetFileName(localPath), ct);
            var request = new UploadRequest(localPath, target, Enum.Parse<ConflictPolicy>(parse.GetValue(conflict)!, ignoreCase: true), parse.GetValue(replication),
                Enum.Parse<Durability>(parse.GetValue(durability)!, ignoreCase: true));
            var asJson = parse.GetValue(json);

            var uploader = new Uploader(client, session.Env.Retry, session.Output.RetryNotice);
            var result = await TransferProgress.RunAsync(session.Env, asJson, display => uploader.UploadAsync(request, display, ct));

            if (asJson)
            {
                session.Output.WriteJson(result);
            }
            else
            {
                if (result.Renamed) session.Output.Line($"{target} exists; stored as {result.Path}");
                session.Output.Line($"stored {result.Path} ({Formatting.Size(result.Size)}, version {result.Version}, {result.ChunkCount} chunk(s), sha256 {result.Sha256})");
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
