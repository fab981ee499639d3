using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Dfs.AppHost.Servers;

public static class PostgresServerBuilderExtensions
{
    /// <summary>
    /// PostgreSQL from <paramref name="binDirectory"/> (initdb and postgres) with its cluster in STATE/NAME, listening on
    /// 127.0.0.1 only, healthy once it answers and the `dfs` database exists; its connection string names that database.
    /// </summary>
    public static IResourceBuilder<PostgresServerResource> AddPostgresServer(this IDistributedApplicationBuilder builder,
        [ResourceName] string name, string binDirectory, string stateDirectory)
    {
        var postgres = new PostgresServerResource(name, binDirectory, Path.Combine(stateDirectory, name));
        var healthCheck = name + "_ready";
        builder.Services.AddHealthChecks().Add(new HealthCheckRegistration(healthCheck, _ => new PostgresReadyCheck(postgres), null, null));
        return builder.AddResource(postgres)
            .WithEndpoint(name: PostgresServerResource.EndpointName, scheme: "tcp", isProxied: false)
            .WithArgs(context =>
            {
                foreach (var argument in ServerAccount.Postgres.LauncherArguments(Path.Combine(binDirectory, "postgres"))) context.Args.Add(argument);
                context.Args.Add("-D");
                context.Args.Add(postgres.DataDirectory);
                context.Args.Add("-p");
                context.Args.Add(postgres.PrimaryEndpoint.Property(EndpointProperty.TargetPort));
                // TCP on loopback only; no Unix socket, whose path would be limited to 107 bytes and need a folder the postgres user can reach.
                context.Args.Add("-c");
                context.Args.Add("listen_addresses=127.0.0.1");
                context.Args.Add("-c");
                context.Args.Add("unix_socket_directories=");
                // Each gateway pools up to 100 connections for the metadata and 50 for chunk leases (held by uploads): room
                // for several gateways under load, where the default 100 would refuse connections ("too many clients").
                context.Args.Add("-c");
                context.Args.Add("max_connections=500");
            })
            .WithHealthCheck(healthCheck)
            .OnBeforeResourceStarted((resource, e, ct) =>
                resource.PrepareAsync(stateDirectory, e.Services.GetRequiredService<ResourceLoggerService>().GetLogger(resource), ct))
            .ExcludeFromManifest();
    }

    /// <summary>SELECT 1 answers, and the `dfs` database exists (created on the first success).</summary>
    private sealed class PostgresReadyCheck(PostgresServerResource postgres) : IHealthCheck
    {
        private bool _databaseExists;

        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            if (!postgres.PrimaryEndpoint.IsAllocated) return HealthCheckResult.Unhealthy("Not started yet.");
            var probe = new NpgsqlConnectionStringBuilder
            {
                Host = "127.0.0.1",
                Port = postgres.PrimaryEndpoint.Port,
                Username = PostgresServerResource.UserName,
                Database = "postgres",
                Pooling = false,
                Timeout = 3,
                CommandTimeout = 5,
            };
            try
            {
                await using var connection = new NpgsqlConnection(probe.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                if (_databaseExists) return HealthCheckResult.Healthy();
                await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection))
                {
                    exists.Parameters.AddWithValue("name", PostgresServerResource.DatabaseName);
                    if (await exists.ExecuteScalarAsync(cancellationToken) is null)
                    {
                        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{PostgresServerResource.DatabaseName}\"", connection);
                        try { await create.ExecuteNonQueryAsync(cancellationToken); }
                        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase) { }
                    }
                }
                _databaseExists = true;
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
            {
                return HealthCheckResult.Unhealthy(e.Message, e);
            }
        }
    }
}
