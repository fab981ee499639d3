using System.CommandLine;
using System.Globalization;
using System.Net;
using Dfs.Cli.Configuration;
using Dfs.Cli.Output;
using Dfs.Contracts.Api;
using Dfs.Contracts.Clients;
using Dfs.Contracts.Cluster;

namespace Dfs.Cli.Commands;

/// <summary>login, logout and whoami: the caller's own credentials.</summary>
internal static class AuthCommands
{
    public const string LoginFailed = "login failed: wrong user name or password";

    public static Command Login(CliSession session)
    {
        var user = new Option<string?>("--user", "-u")
        {
            Description = $"User name (default: ${Credentials.UserVariable}; asked at a terminal).",
            HelpName = "name",
        };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from one line of stdin instead of asking for it." };
        var ttl = new Option<int?>("--ttl-hours")
        {
            Description = "Token lifetime in hours, 1-8760 (default and maximum: the gateway's, 7 days unless configured).",
            HelpName = "hours",
        };
        ttl.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > 8760) result.AddError("--ttl-hours must be between 1 and 8760");
        });

        var command = new Command("login",
            "Sign in: asks the user name and password, and saves a bearer token (owner-only file) that later commands send. "
            + "On the cluster's machine, the admin's password is taken from the file the AppHost keeps it in.")
        {
            user, passwordStdin, ttl,
        };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            // The gateway first, so a missing one fails before the user types a password.
            var endpoint = session.Locate(parse.GetValue(session.Globals.Gateway));
            var name = parse.GetValue(user)
                ?? (session.Env.GetEnvironmentVariable(Credentials.UserVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null)
                ?? await Prompts.AskAsync(session, "User name:", secret: false, $"no user name: pass --user NAME or set {Credentials.UserVariable}", ct);
            var kept = parse.GetValue(passwordStdin) ? null : KeptAdminPassword(session, endpoint, name);
            if (kept is not null) session.Output.Error($"using the admin password kept by the AppHost in {kept.Value.Path}");
            var password = parse.GetValue(passwordStdin)
                ? await Prompts.ReadLineAsync(session, "password", ct)
                : kept?.Password
                  ?? await Prompts.AskAsync(session, "Password:", secret: true, "no terminal to ask the password on: pipe it with --password-stdin", ct);

            TokenCreated created;
            var (http, client) = session.Connect(endpoint, GatewayCredentials.Basic(name, password));
            using (http)
            {
                try
                {
                    created = await client.CreateTokenAsync($"dfs login on {Environment.MachineName}", parse.GetValue(ttl), ct);
                }
                catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.Unauthorized)
                {
                    throw new CliException(ExitCodes.Unauthenticated,
                        kept is null ? LoginFailed : $"{LoginFailed} (the admin's password is no longer the one kept in {kept.Value.Path}; pass it with --password-stdin)", e);
                }
            }

            session.CredentialStore.Save(endpoint.Url, new SavedCredential(created.User, created.Token, created.ExpiresAt));
            session.ForgetClient();
            session.Output.Line($"logged in as {created.User} at {CredentialStore.Key(endpoint.Url)} (token expires {Formatting.Timestamp(created.ExpiresAt)})");
            WarnIfOverridden(session);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Logout(CliSession session)
    {
        var command = new Command("logout", "Revoke the token `dfs login` saved for this gateway and delete it.");
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var endpoint = session.Locate(parse.GetValue(session.Globals.Gateway));
            var store = session.CredentialStore;
            if (store.Get(endpoint.Url) is not { } saved)
            {
                session.Output.Line("not logged in");
                WarnIfOverridden(session);
                return ExitCodes.Ok;
            }

            Exception? failure = null;
            var (http, client) = session.Connect(endpoint, GatewayCredentials.Bearer(saved.Token));
            using (http)
            {
                try
                {
                    await client.RevokeCurrentTokenAsync(ct);
                }
                catch (DfsApiException e) when (e.StatusCode == HttpStatusCode.Unauthorized)
                {
                    // Already expired or revoked: the gateway no longer honours it, which is what logout wants.
                }
                catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
                {
                    failure = e;
                }
            }
            // Forgotten locally in any case: the user asked to be logged out here.
            store.Remove(endpoint.Url);
            session.ForgetClient();
            if (failure is not null)
            {
                var (code, message) = ErrorReporter.Classify(failure, endpoint, null, ct);
                throw new CliException(code, $"deleted the saved token, but the gateway did not revoke it ({message}); it stays valid until {Formatting.Timestamp(saved.ExpiresAt)}", failure);
            }
            session.Output.Line("logged out");
            WarnIfOverridden(session);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command WhoAmI(CliSession session)
    {
        var json = new Option<bool>("--json") { Description = "Print the answer (WhoAmI) as JSON." };
        var command = new Command("whoami", "Who the gateway takes you for: name, admin or not, home folder, quota usage.") { json };
        command.SetAction(async (ParseResult parse, CancellationToken ct) =>
        {
            var client = session.GetClient(parse);
            var me = await session.RetryAsync(client.WhoAmIAsync, ct);
            if (parse.GetValue(json))
            {
                session.Output.WriteJson(me);
                return ExitCodes.Ok;
            }
            var credential = session.Credential!;
            var via = credential.ExpiresAt is { } expires
                ? $"token saved by `dfs login`, expires {Formatting.Timestamp(expires)}"
                : credential.Source;
            session.Output.Line($"user     {me.Name}");
            session.Output.Line($"admin    {(me.IsAdmin ? "yes" : "no")}");
            session.Output.Line($"home     {me.Home}");
            session.Output.Line($"storage  {Usage(me.UsedBytes, me.QuotaBytes)}");
            session.Output.Line($"gateway  {CredentialStore.Key(session.Gateway!.Url)} (credentials: {via})");
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>
    /// On the cluster's own machine the AppHost keeps the first admin's password in an owner-only file of its state
    /// folder: use it instead of asking, but only for that admin and only for the gateway that same cluster.json
    /// names, so the password is never sent to another gateway. Null when any of that does not hold.
    /// </summary>
    private static (string Password, string Path)? KeptAdminPassword(CliSession session, GatewayEndpoint endpoint, string user)
    {
        var stateDirectory = GatewayLocator.StateDirectory(session.Env.GetEnvironmentVariable);
        var cluster = ClusterFile.TryRead(stateDirectory);
        if (cluster is null || !Uri.TryCreate(cluster.Gateway, UriKind.Absolute, out var clusterGateway)) return null;
        if (CredentialStore.Key(clusterGateway) != CredentialStore.Key(endpoint.Url)) return null;
        var admin = string.IsNullOrEmpty(cluster.AdminUser) ? AdminPasswordFile.DefaultUser : cluster.AdminUser;
        if (user != admin) return null;
        return AdminPasswordFile.TryRead(stateDirectory) is { } password ? (password, AdminPasswordFile.PathIn(stateDirectory)) : null;
    }

    /// <summary>"used 1.2 GiB of 5.0 GiB (24%)" or "used 12 MiB, no quota".</summary>
    public static string Usage(long used, long? quota) => quota switch
    {
        null => $"used {Formatting.Size(used)}, no quota",
        > 0 => $"used {Formatting.Size(used)} of {Formatting.Size(quota.Value)} ({(100.0 * used / quota.Value).ToString("0", CultureInfo.InvariantCulture)}%)",
        _ => $"used {Formatting.Size(used)} of a zero quota",
    };

    /// <summary>The environment's credentials win over the saved token; say so, or a login seems to have no effect.</summary>
    private static void WarnIfOverridden(CliSession session)
    {
        var env = session.Env.GetEnvironmentVariable;
        if (env(Credentials.TokenVariable) is { Length: > 0 })
            session.Output.Error($"note: ${Credentials.TokenVariable} is set, and commands send it rather than the saved token");
        else if (env(Credentials.UserVariable) is { Length: > 0 } && env(Credentials.PasswordVariable) is { Length: > 0 })
            session.Output.Error($"note: ${Credentials.UserVariable} and ${Credentials.PasswordVariable} are set, and commands send them rather than the saved token");
    }
}
