using System.CommandLine;
using Dfs.Cli.Output;
using Dfs.Cli.Transfers;
using Dfs.Contracts.Paths;

namespace Dfs.Cli.Commands;

internal static class GetCommand
{
    public static Command Create(CliSession session)
    {
        var remote = new Argument<string>("remote") { Description = "Remote file to download." };
        var local = new Argument<string?>("local")
        {
            Description = "Local destination file or existing folder. Default: the remote file name in the current folder.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite an existing local file." };

        var command = new Command("get", "Download a file, verifying its SHA-256 and MD5; nothing is written unless it verifies.") { remote, local, force };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var remotePath = session.ResolveRemote(parse.GetValue(remote));
            var name = DfsPath.Name(remotePath);
            if (name.Length == 0) throw new CliException(ExitCodes.Usage, "cannot download the root folder; name a file");

            var rawLocal = parse.GetValue(local);
            var destination = session.ResolveLocal(rawLocal ?? name);
            if (Directory.Exists(destination) || rawLocal is not null && (rawLocal.EndsWith('/') || rawLocal.EndsWith(Path.DirectorySeparatorChar)))
                destination = Path.Combine(destination, name);

            var client = session.GetClient(parse);
            var downloader = new Downloader(client, session.Env.Retry, session.Output.RetryNotice);
            var result = await TransferProgress.RunAsync(session.Env, quiet: false,
                display => downloader.DownloadAsync(remotePath, destination, parse.GetValue(force), display, ct));

            var check = result.Verified ? "verified" : "not verified: the gateway sent no digest";
            if (result.ChunksFromNodes is { } direct) check += $"; {direct} of {result.Chunks} chunks straight from the nodes";
            session.Output.Line($"saved {result.RemotePath} to {result.LocalPath} ({Formatting.Size(result.Size)}, sha256 {result.Sha256Hex}, {check})");
            return ExitCodes.Ok;
        });
        return command;
    }
}
