using Dfs.Gateway.Auth.AccessKeys;

namespace Dfs.Gateway.Auth;

public static class AuthExtensions
{
    /// <summary>Endpoints for admins only (users, node drain and removal): others get a 403 problem.</summary>
    public const string AdminPolicy = "admin";

    public static WebApplicationBuilder AddGatewayAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddAuthentication(DfsAuthenticationHandler.SchemeName)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, DfsAuthenticationHandler>(DfsAuthenticationHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, policy => policy.RequireAuthenticatedUser().RequireRole(Caller.AdminRole));
        builder.Services.AddSingleton<PasswordHasher>();
        builder.Services.AddSingleton<CredentialCache>();
        builder.Services.AddScoped<CredentialValidator>();
        builder.Services.AddScoped<AccessControl>();
        builder.Services.AddScoped<UserService>();
        builder.Services.AddScoped<TokenService>();
        builder.Services.AddSingleton<AccessKeyCipher>();
        builder.Services.AddScoped<AccessKeyService>();
        builder.Services.AddSingleton<AccessKeyUsage>();
        return builder;
    }

    /// <summary>Authentication for every request (the user is known to what follows, rate limiting included), then authorization.</summary>
    public static RouteGroupBuilder MapAuthApi(this RouteGroupBuilder api) =>
        api.MapAuthEndpoints().MapUserEndpoints().MapShareEndpoints().MapAccessKeyEndpoints();
}
