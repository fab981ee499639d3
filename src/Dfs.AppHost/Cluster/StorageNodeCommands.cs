using System.Net;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Security;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Dfs.AppHost.Cluster;

/// <summary>
/// The dashboard's Dfs actions: "Drain and remove" on a storage node (every chunk it holds gets its copies on other
/// nodes first, then the node stops and the gateway forgets it) and "Add storage node" on the gateway (starts a spare).
/// </summary>
public static class StorageNodeCommands
{
    public const string DrainAndRemove = "dfs-drain-remove";
    public const string AddNode = "dfs-add-node";

    /// <summary>A custom property of a node's snapshot: its removal's progress.</summary>
    public const string RemovalProperty = "dfs.removal";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan RemoveGrace = TimeSpan.FromSeconds(60);

    public static IResourceBuilder<ProjectResource> WithStorageNodeCommands(this IResourceBuilder<ProjectResource> node, DfsCluster cluster,
        IResourceBuilder<ProjectResource> gateway) =>
        node.WithCommand(DrainAndRemove, "Drain and remove",
            context => DrainAndRemoveAsync(context, node.Resource, gateway.Resource, cluster),
            new CommandOptions
            {
                Description = "Copy every chunk this node holds to other nodes, then stop it and remove it from the cluster.",
                ConfirmationMessage = $"Drain {node.Resource.Name} and remove it from the cluster?",
                IconName = "ArrowExit",
                IsHighlighted = true,
                UpdateState = context => context.ResourceSnapshot.State?.Text == KnownResourceStates.Running
                    ? ResourceCommandState.Enabled
                    : ResourceCommandState.Disabled,
            });

    /// <summary>"Add storage node" on the gateway: starts the first spare node that is not running.</summary>
    public static IResourceBuilder<ProjectResource> WithAddStorageNodeCommand(this IResourceBuilder<ProjectResource> gateway) =>
        gateway.WithCommand(AddNode, "Add storage node", async context =>
            {
                var model = context.Services.GetRequiredService<DistributedApplicationModel>();
                var notifications = context.Services.GetRequiredService<ResourceNotificationService>();
                foreach (var node in model.Resources.OfType<ProjectResource>().Where(r => r.Name.StartsWith(DfsCluster.StorageNodePrefix, StringComparison.Ordinal)))
                {
                    if (!notifications.TryGetCurrentState(node.Name, out var current)) continue;
                    if (current.Snapshot.State?.Text is not ({ } state) || state != KnownResourceStates.NotStarted) continue;
                    var started = await context.Services.GetRequiredService<ResourceCommandService>()
                        .ExecuteCommandAsync(node, KnownResourceCommands.StartCommand, context.CancellationToken);
                    return started.Success
                        ? CommandResults.Success($"{node.Name} started; it joins the cluster and takes new chunks once it is healthy.")
                        : CommandResults.Failure($"Starting {node.Name} failed: {started.Message}");
                }
                return CommandResults.Failure("No spare storage node is left: run the AppHost with more --spare-nodes, or start a node by hand (docs/apphost.md).");
            },
            new CommandOptions
            {
                Description = "Start a spare storage node; it registers with the gateway and takes new chunks at once.",
                IconName = "AddCircle",
                IsHighlighted = true,
                UpdateState = context => context.ResourceSnapshot.HealthStatus == Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Healthy
                    ? ResourceCommandState.Enabled
                    : ResourceCommandState.Disabled,
            });

    private static async Task<ExecuteCommandResult> DrainAndRemoveAsync(ExecuteCommandContext context, ProjectResource node, ProjectResource gateway, DfsCluster cluster)
    {
        var log = context.Services.GetRequiredService<ResourceLoggerService>().GetLogger(node);
        var notifications = context.Services.GetRequiredService<ResourceNotificationService>();
        var commands = context.Services.GetRequiredService<ResourceCommandService>();
        var adminPassword = await context.Services.GetRequiredService<DistributedApplicationModel>().Resources.OfType<ParameterResource>()
            .Single(p => p.Name == "admin-password").GetValueAsync(context.CancellationToken);
        using var http = GatewayAdminClient(gateway, cluster, adminPassword!);
        var client = DfsRefit.Gateway(http);

        async Task Progress(string text)
        {
            log.LogInformation("{Progress}", text);
            await notifications.PublishUpdateAsync(node, s => s with { Properties = s.Properties.SetProperty(RemovalProperty, text) });
        }

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        limit.CancelAfter(cluster.Options.DrainTimeout);
        long atRisk = -1;
        try
        {
            var status = await client.DrainNodeAsync(node.Name, limit.Token);
            while (!status.Drained)
            {
                if (status.ChunksAtRisk != atRisk) await Progress($"draining: {status.ChunksAtRisk} of {status.ChunksHeld} chunks still need copies elsewhere");
                atRisk = status.ChunksAtRisk;
                await Task.Delay(PollInterval, limit.Token);
                status = await client.GetDrainStatusAsync(node.Name, limit.Token);
            }
            await Progress("drained: every chunk has its copies elsewhere; stopping");
            var stopped = await commands.ExecuteCommandAsync(node, KnownResourceCommands.StopCommand, limit.Token);
            if (!stopped.Success) throw new InvalidOperationException($"stopping {node.Name} failed: {stopped.Message}");
            await RemoveOnceDrainedAsync(client, node, commands, limit.Token);
            await Progress("removed");
            return CommandResults.Success($"{node.Name} drained, stopped and removed from the cluster.");
        }
        catch (Exception e) when (e is not OperationCanceledException || !context.CancellationToken.IsCancellationRequested)
        {
            var why = e is OperationCanceledException
                ? $"the drain did not finish within {cluster.Options.DrainTimeout} ({atRisk} chunks still without enough copies elsewhere)"
                : e.Message;
            // A half-done removal must not leave the node refusing new chunks for ever.
            try { await client.CancelDrainAsync(node.Name, CancellationToken.None); }
            catch (Exception cancel) when (cancel is HttpRequestException or DfsApiException) { log.LogWarning("Cancelling the drain failed: {Error}", cancel.Message); }
            await Progress("failed: " + why);
            return CommandResults.Failure($"Removing {node.Name} failed: {why}");
        }
    }

    /// <summary>
    /// The gateway refuses (409) while any chunk of the node lacks copies elsewhere, which can come back after the stop when
    /// another holder misses heartbeats under load: wait for the copies to count again; if they never do, start the node
    /// again rather than leave its copies offline.
    /// </summary>
    private static async Task RemoveOnceDrainedAsync(IGatewayApi client, ProjectResource node, ResourceCommandService commands, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + RemoveGrace;
        while (true)
        {
            try
            {
                await client.RemoveNodeAsync(node.Name, force: false, ct);
                return;
            }
            catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.Conflict && DateTime.UtcNow < deadline)
            {
                await Task.Delay(PollInterval, ct);
            }
            catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.Conflict)
            {
                await commands.ExecuteCommandAsync(node, KnownResourceCommands.StartCommand, CancellationToken.None);
                throw new InvalidOperationException($"{node.Name} stayed needed after it stopped ({e.Message}); it was started again.");
            }
        }
    }

    /// <summary>The gateway's admin API as its first admin, trusting its pinned certificate.</summary>
    private static HttpClient GatewayAdminClient(ProjectResource gateway, DfsCluster cluster, string adminPassword)
    {
        var handler = new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(5) }.TrustPinned(cluster.GatewayCertificateThumbprint);
        var http = new HttpClient(handler)
        {
            BaseAddress = new Uri(gateway.GetEndpoint(cluster.GatewayScheme).Url),
            Timeout = TimeSpan.FromSeconds(30),
        };
        http.DefaultRequestHeaders.Authorization = GatewayCredentials.Basic(AdminPassword.User, adminPassword);
        return http;
    }

    /// <summary>Sets (or adds) one custom property of a snapshot.</summary>
    internal static System.Collections.Immutable.ImmutableArray<ResourcePropertySnapshot> SetProperty(
        this System.Collections.Immutable.ImmutableArray<ResourcePropertySnapshot> properties, string name, object value)
    {
        var property = new ResourcePropertySnapshot(name, value);
        for (var i = 0; i < properties.Length; i++)
            if (properties[i].Name == name) return properties.SetItem(i, property);
        return properties.Add(property);
    }
}
