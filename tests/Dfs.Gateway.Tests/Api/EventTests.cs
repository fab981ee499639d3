using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Json;
using Dfs.Contracts.Internal;
using Microsoft.Extensions.DependencyInjection;

namespace Dfs.Gateway.Tests.Api;

/// <summary>
/// The events the gateway publishes, seen by the Replicator's consumers on the embedded profile's in-memory bus
/// (the same consumers the Replicator process runs over RabbitMQ), so each test fails if the gateway stops
/// publishing or the bus stops delivering.
/// </summary>
public sealed class EventTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Deleting_a_file_publishes_FileDeleted_to_the_replicator()
    {
        await using var factory = new GatewayFactory();
        using var http = factory.CreateClient();
        using var deleted = new CounterWatch(factory.Services.GetRequiredService<IMeterFactory>(), "dfs.replicator.files_deleted");

        (await http.PutAsync("/api/files/events/empty.txt", new ByteArrayContent([]), Ct)).EnsureSuccessStatusCode();
        Assert.Equal(0, deleted.Total);
        Assert.Equal(HttpStatusCode.NoContent, (await http.DeleteAsync("/api/files/events/empty.txt", Ct)).StatusCode);

        await Eventually(() => deleted.Total == 1, "the Replicator's FileDeleted consumer to see the delete");
    }

    [Fact]
    public async Task A_node_that_stops_heartbeating_is_declared_dead_and_NodeLost_reaches_the_replicator()
    {
        await using var factory = new GatewayFactory()
            .With("Dfs:Cluster:HeartbeatIntervalMs", "200")
            .With("Dfs:Cluster:NodeDeadAfterMs", "1000")
            // Only NodeLost, not a periodic pass, may make the Replicator reconcile during this test.
            .With("Dfs:Replicator:ReconcileIntervalMs", "3600000");
        using var cluster = factory.CreateClusterClient();
        var id = Guid.NewGuid();
        (await cluster.PostAsJsonAsync("/internal/nodes/register",
            new NodeRegistration(id, "silent-node", "http://127.0.0.1:1/silent-node", new NodeUsage(1 << 30, 1 << 30, 0, 0)), Ct)).EnsureSuccessStatusCode();

        await Eventually(() => factory.Warnings.Any(w => w.Contains($"Node silent-node ({id}) was declared dead", StringComparison.Ordinal)),
            "the Replicator's NodeLost consumer to log the lost node");
    }

    private static async Task Eventually(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting for " + what);
            await Task.Delay(50, Ct);
        }
    }

    /// <summary>Sums one counter of the meters made by one service provider's meter factory (not other tests' gateways).</summary>
    private sealed class CounterWatch : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _total;

        public CounterWatch(IMeterFactory scope, string instrument)
        {
            _listener.InstrumentPublished = (i, listener) =>
            {
                if (i.Name == instrument && ReferenceEquals(i.Meter.Scope, scope)) listener.EnableMeasurementEvents(i);
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref _total, value));
            _listener.Start();
        }

        public long Total => Interlocked.Read(ref _total);

        public void Dispose() => _listener.Dispose();
    }
}
