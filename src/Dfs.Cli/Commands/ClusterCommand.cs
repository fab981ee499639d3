using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Dfs.Cli.Configuration;
using Dfs.Contracts.Cluster;
using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>
/// `dfs cluster status`: the resources of the cluster on this machine, as the AppHost lists them in cluster.json of
/// the state folder. Read-only: starting, stopping and adding resources is the Aspire dashboard's job, and dfs talks
/// to no server but the gateway.
/// </summary>
internal static class ClusterCommand
{
    public const string NoClusterFileHint = "start a cluster with `dotnet run --project src/Dfs.AppHost` (it writes cluster.json), or set DFS_STATE_DIR to its state folder";

    /// <summary>What `dfs cluster status --json` prints: the file's content without any token.</summary>
    internal sealed record ClusterStatus(string File, string Profile, string Gateway, string? Dashboard, IReadOnlyList<ClusterResource> Resources);

    /// <summary>The subcommands this command had while the AppHost had its own API, and where their job went.</summary>
    private static readonly (string Name, string Instead)[] Retired =
    [
        ("add-node", "add storage nodes from the Aspire dashboard"),
        ("remove-node", "use `dfs nodes remove NAME`: it drains the node, removes it through the gateway, and the node's process stops by itself"),
        ("start", "start resources from the Aspire dashboard"),
        ("stop", "stop resources from the Aspire dashboard"),
        ("restart", "restart resources from the Aspire dashboard"),
    ];

    public static Command Create(CliSession session)
    {
        var command = new Command("cluster", "The cluster on this machine: its resources as the AppHost lists them in cluster.json.");
        command.Add(Status(session));
        foreach (var (name, instead) in Retired)
        {
            // Hidden, so help stays about what exists; kept, so old scripts learn where the job went instead of "unknown command".
            var retired = new Command(name) { Hidden = true, TreatUnmatchedTokensAsErrors = false };
            retired.SetAction((ParseResult _) => Gone(name, instead));
            command.Add(retired);
        }
        return command;
    }

    private static Command Status(CliSession session)
    {
        var json = new Option<bool>("--json") { Description = "Print the profile, URLs and resources as JSON." };
        var command = new Command("status",
            "Show the cluster's resources from cluster.json in the state folder: name, kind, state, pid, url; and the profile, gateway and dashboard URLs.")
        {
            json,
        };
        command.SetAction((ParseResult parse) =>
        {
            var stateDirectory = GatewayLocator.StateDirectory(session.Env.GetEnvironmentVariable);
            var path = ClusterFile.PathIn(stateDirectory);
            var file = Read(stateDirectory, path)
                       ?? throw new CliException(ExitCodes.Unreachable, $"no cluster: {path} does not exist; {NoClusterFileHint}");
            var status = new ClusterStatus(path, file.Profile, file.Gateway, file.Dashboard, file.Resources);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(status);
                return ExitCodes.Ok;
            }

            session.Output.Line($"profile    {Or(status.Profile)}");
            session.Output.Line($"gateway    {Or(status.Gateway)}");
            session.Output.Line($"dashboard  {Or(status.Dashboard)}");
            if (status.Resources.Count == 0)
            {
                session.Output.Line($"no resources listed in {path}");
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("name").AddColumn("kind").AddColumn("state").AddColumn(new TableColumn("pid").RightAligned()).AddColumn("url");
            foreach (var r in status.Resources)
                table.AddRow(
                    new Text(Or(r.Name)), new Text(Or(r.Kind)),
                    new Markup($"[{StateColor(r.State)}]{Markup.Escape(Or(r.State))}[/]"),
                    new Text(r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                    new Text(Or(r.Url)));
            session.Output.Render(table);
            session.Output.Line($"{status.Resources.Count(r => ResourceStates.IsRunning(r.State))} of {status.Resources.Count} resource(s) running");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The file, null when there is none; one that is there but unusable is an error of its own, not "no cluster".</summary>
    private static ClusterFile? Read(string stateDirectory, string path)
    {
        try
        {
            return ClusterFile.Read(stateDirectory);
        }
        catch (JsonException e)
        {
            throw new CliException(ExitCodes.Error, $"{path} is not a cluster file the AppHost writes: {e.Message}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Error, $"cannot read {path}: {e.Message}");
        }
    }

    private static int Gone(string name, string instead) =>
        throw new CliException(ExitCodes.Usage, $"`dfs cluster {name}` is gone (dfs talks only to the gateway): {instead}");

    private static string Or(string? value) => string.IsNullOrEmpty(value) ? "-" : value;

    private static string StateColor(string state) =>
        ResourceStates.IsRunning(state) ? "green"
        : ResourceStates.IsFailed(state) ? "red"
        : ResourceStates.Is(state, ResourceStates.Finished) || ResourceStates.Is(state, ResourceStates.NotStarted) ? "grey"
        : "yellow";
}
