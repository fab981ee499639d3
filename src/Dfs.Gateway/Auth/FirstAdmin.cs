using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Dfs.Gateway.Auth;

/// <summary>At the first start (no user at all), the first admin: with the configured password, or a generated one shown once.</summary>
public static partial class FirstAdmin
{
    public static async Task EnsureFirstAdminAsync(this IServiceProvider services, CancellationToken ct)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Data.MetadataDbContext>();
        if (await db.Users.AnyAsync(ct)) return;
        var options = scope.ServiceProvider.GetRequiredService<IOptions<AuthOptions>>().Value;
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Dfs.Gateway.Auth");
        var users = scope.ServiceProvider.GetRequiredService<UserService>();
        try
        {
            var (_, generated) = await users.CreateAsync(options.AdminUser, options.AdminPassword, isAdmin: true, quotaBytes: null, ct);
            if (generated is not null) LogGenerated(logger, options.AdminUser, generated, options.AdminUser);
            else LogConfigured(logger, options.AdminUser);
        }
        catch (Http.DfsProblemException e) when (e.Status == StatusCodes.Status409Conflict)
        {
            // Another gateway on the same database created it first; anything else (a file at /home/NAME) must stop the start.
            if (!await db.Users.AnyAsync(ct)) throw new InvalidOperationException($"Could not create the first admin: {e.Message}", e);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Created the first admin user '{User}' with password {Password} (shown once; change it with `dfs user passwd {Name}`)")]
    private static partial void LogGenerated(ILogger logger, string user, string password, string name);

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the first admin user '{User}' with the configured password")]
    private static partial void LogConfigured(ILogger logger, string user);
}
