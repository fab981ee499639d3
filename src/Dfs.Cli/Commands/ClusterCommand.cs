using System.CommandLine;
using System.Globalization;
using System.Net.Http.Headers;
using Dfs.Cli.Configuration;
using Dfs.Cli.Output;
using Dfs.Contracts.AppHost;
using Dfs.Contracts.Clients;
using Spectre.Console;

namespace Dfs.Cli.Commands;

/// <summary>`dfs cluster …`: the AppHost's resources, and adding or removing storage nodes of a running cluster.</summary>
internal static class ClusterCommand
{
    private static readonly TimeSpan RemovalPoll = TimeSpan.FromMilliseconds(500);

    public static Command Create(CliSession session)
    {
        var apphost = new Option<string?>("--apphost")
        {
            Description = $"The AppHost's dashboard URL (token in ${AppHostLocator.TokenVariable}); default: the dashboard in cluster.json.",
            HelpName = "url",
            Recursive = true,
        };
        var command = new Command("cluster", "The AppHost's resources: list them, start, stop or restart one, add or remove storage nodes.") { apphost };
        command.Add(Status(session, apphost));
        command.Add(AddNode(session, apphost));
        command.Add(RemoveNode(session, apphost));
        foreach (var action in new[] { "start", "stop", "restart" }) command.Add(Control(session, apphost, action));
        return command;
    }

    private static Command Status(CliSession session, Option<string?> apphost)
    {
        var json = new Option<bool>("--json") { Description = "Print the resources as JSON." };
        var command = new Command("status", "List the resources the AppHost runs: state, health, pid, url, uptime, restarts.") { json };
        command.SetAction((ParseResult parse, CancellationToken ct) => WithAppHostAsync(session, parse, apphost, async client =>
        {
            var resources = await session.RetryAsync(client.GetResourcesAsync, ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(resources);
                return ExitCodes.Ok;
            }
            var table = new Table().Border(TableBorder.Rounded)
                .AddColumn("name").AddColumn("kind").AddColumn("state").AddColumn("health").AddColumn(new TableColumn("pid").RightAligned())
                .AddColumn("url").AddColumn("uptime").AddColumn(new TableColumn("restarts").RightAligned());
            foreach (var r in resources)
                table.AddRow(
                    new Text(r.Name), new Text(r.Kind),
                    new Markup($"[{StateColor(r.State)}]{Markup.Escape(r.State)}[/]"),
                    new Text(r.Health ?? "-"),
                    new Text(r.Pid?.ToString(CultureInfo.InvariantCulture) ?? "-"),
                    new Text(r.Url ?? "-"),
                    new Text(r.UptimeSeconds is { } up ? Uptime(up) : "-"),
                    new Text(r.Restarts.ToString(CultureInfo.InvariantCulture)));
            session.Output.Render(table);
            session.Output.Line($"{resources.Count(r => r.State == "running")} of {resources.Count} resource(s) running");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command AddNode(CliSession session, Option<string?> apphost)
    {
        var command = new Command("add-node", "Start one more storage node; it joins the cluster and takes new chunks at once.");
        command.SetAction((ParseResult parse, CancellationToken ct) => WithAppHostAsync(session, parse, apphost, async client =>
        {
            var added = await client.AddNodeAsync(ct);
            session.Output.Line($"{added.Name} added and running");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command RemoveNode(CliSession session, Option<string?> apphost)
    {
        var name = new Argument<string>("name") { Description = "The storage node, e.g. node-3." };
        var command = new Command("remove-node", "Drain a storage node (its chunks are copied to the other nodes first), then stop and forget it.") { name };
        command.SetAction((ParseResult parse, CancellationToken ct) => WithAppHostAsync(session, parse, apphost, async client =>
        {
            var node = parse.GetValue(name)!;
            var removal = await client.RemoveNodeAsync(node, ct);
            var last = "";
            while (removal.Phase is "draining" or "stopping")
            {
                var line = removal.Phase == "draining" && removal.ChunksAtRisk >= 0
                    ? $"{node}: draining, {removal.ChunksAtRisk} chunk(s) still without enough copies elsewhere"
                    : $"{node}: {removal.Phase}";
                if (line != last) session.Output.Error(line);
                last = line;
                await Task.Delay(RemovalPoll, ct);
                removal = await session.RetryAsync(c => client.GetNodeRemovalAsync(node, c), ct);
            }
            if (removal.Phase != "removed")
                throw new CliException(ExitCodes.Error, $"removing {node} failed: {removal.Error ?? removal.Phase}; the node keeps running");
            session.Output.Line($"{node} drained and removed; no chunk lost a copy");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    private static Command Control(CliSession session, Option<string?> apphost, string action)
    {
        var name = new Argument<string>("resource") { Description = "The resource's name, as `dfs cluster status` lists it." };
        var command = new Command(action, $"{char.ToUpperInvariant(action[0])}{action[1..]} one resource and wait until it is done.") { name };
        command.SetAction((ParseResult parse, CancellationToken ct) => WithAppHostAsync(session, parse, apphost, async client =>
        {
            var resource = await client.ControlAsync(parse.GetValue(name)!, action, ct);
            session.Output.Line($"{resource.Name}: {resource.State}");
            return ExitCodes.Ok;
        }, ct));
        return command;
    }

    /// <summary>Runs <paramref name="work"/> against the located AppHost; an unreachable AppHost is reported as such, not as the gateway.</summary>
    private static async Task<int> WithAppHostAsync(CliSession session, ParseResult parse, Option<string?> apphost, Func<IAppHostClient, Task<int>> work, CancellationToken ct)
    {
        var endpoint = AppHostLocator.Locate(parse.GetValue(apphost), session.Env.GetEnvironmentVariable);
        using var http = new HttpClient(session.Env.HttpHandlerFactory?.Invoke() ?? new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10) })
        {
            BaseAddress = endpoint.Url,
            // Adding a node waits until it is healthy; the AppHost bounds that itself.
            Timeout = TimeSpan.FromMinutes(3),
        };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", endpoint.Token);
        try
        {
            return await work(new AppHostClient(http));
        }
        catch (Exception e) when (e is HttpRequestException or HttpIOException || (e is TaskCanceledException && !ct.IsCancellationRequested))
        {
            throw new CliException(ExitCodes.Unreachable,
                $"cannot reach the AppHost at {endpoint.Url.GetLeftPart(UriPartial.Authority)} (from {endpoint.Source}): {ErrorReporter.Describe(e)}");
        }
        catch (DfsApiException e) when (e.StatusCode == System.Net.HttpStatusCode.Unauthorized)
        {
            throw new CliException(ExitCodes.BadRequest, $"the AppHost refused the dashboard token (from {endpoint.Source}); it changes at every start");
        }
    }

    private static string StateColor(string state) => state switch
    {
        "running" => "green",
        "starting" or "stopping" or "unhealthy" => "yellow",
        "exited" or "failed" => "red",
        _ => "grey",
    };

    private static string Uptime(double seconds)
    {
        var span = TimeSpan.FromSeconds(seconds);
        return span.TotalHours >= 1 ? $"{(int)span.TotalHours}h{span.Minutes:00}m" : span.TotalMinutes >= 1 ? $"{span.Minutes}m{span.Seconds:00}s" : $"{span.Seconds}s";
    }
}
