using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Dfs.StorageNode.Registration;

/// <summary>Whether the gateway has accepted this node at least once; a standalone node (no gateway configured) has none.</summary>
public sealed class RegistrationState(bool standalone)
{
    public bool Standalone { get; } = standalone;

    private volatile bool _registered;

    public bool HasRegistered => _registered;

    public void MarkRegistered() => _registered = true;
}

/// <summary>
/// "gateway-registration", on /health only (not /alive): the AppHost reads /health=200 as "up and registered",
/// so placement can already use the node when the AppHost moves on.
/// </summary>
internal sealed class GatewayRegistrationHealthCheck(RegistrationState state) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(
            state.Standalone ? HealthCheckResult.Healthy("No gateway configured: running standalone.")
            : state.HasRegistered ? HealthCheckResult.Healthy("Registered with the gateway.")
            : HealthCheckResult.Unhealthy("Not yet registered with the gateway."));
}
